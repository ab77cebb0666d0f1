/**
 * OpenAPI parameter and request-body objects for the operations of a resource, with upstream's
 * names, locations and descriptions.
 *
 * Design notes
 * - Parameters are written inline in each operation rather than as `#/components/parameters`
 *   references: kubectl decides whether to send `?fieldValidation=Strict` (and skip client-side
 *   validation and the /openapi/v2 download) by looking for a parameter *named* fieldValidation on
 *   the kind's PATCH operation, and an inline object is what every client reads the same way.
 * - Strategic merge patch is offered only for built-in kinds, as upstream does: CRDs carry no
 *   patch-merge-key metadata, so the server rejects that content type for them.
 */
import type { JsonObject } from "../../../api/object.js";
import { DELETE_OPTIONS, PATCH, refTo } from "./schemas.js";

function query(name: string, description: string, type: "string" | "boolean" | "integer"): JsonObject {
  return { name, in: "query", description, schema: { type, uniqueItems: true } };
}

function path(name: string, description: string): JsonObject {
  return { name, in: "path", description, required: true, schema: { type: "string", uniqueItems: true } };
}

export const NAME_PARAM = (kind: string): JsonObject => path("name", `name of the ${kind}`);
export const NAMESPACE_PARAM = path(
  "namespace",
  "object name and auth scope, such as for teams and projects",
);
export const PRETTY_PARAM = query(
  "pretty",
  "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
  "string",
);

const DRY_RUN = query(
  "dryRun",
  "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
  "string",
);
const FIELD_MANAGER = query(
  "fieldManager",
  "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
  "string",
);
const FIELD_VALIDATION = query(
  "fieldValidation",
  "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
  "string",
);
const FORCE = query(
  "force",
  'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
  "boolean",
);

/** Query parameters of every write (POST, PUT, PATCH). */
export const WRITE_PARAMS: readonly JsonObject[] = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
export const PATCH_PARAMS: readonly JsonObject[] = [...WRITE_PARAMS, FORCE];

export const LIST_PARAMS: readonly JsonObject[] = [
  query("allowWatchBookmarks", 'allowWatchBookmarks requests watch events with type "BOOKMARK".', "boolean"),
  query(
    "continue",
    "The continue option should be set when retrieving more results from the server.",
    "string",
  ),
  query("fieldSelector", "A selector to restrict the list of returned objects by their fields.", "string"),
  query("labelSelector", "A selector to restrict the list of returned objects by their labels.", "string"),
  query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
  query(
    "resourceVersion",
    "resourceVersion sets a constraint on what resource versions a request may be served from.",
    "string",
  ),
  query(
    "resourceVersionMatch",
    "resourceVersionMatch determines how resourceVersion is applied to list calls.",
    "string",
  ),
  query("sendInitialEvents", "`sendInitialEvents=true` may be set together with `watch=true`.", "boolean"),
  query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
  query(
    "watch",
    "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    "boolean",
  ),
];

export const DELETE_PARAMS: readonly JsonObject[] = [
  DRY_RUN,
  query("gracePeriodSeconds", "The duration in seconds before the object should be deleted.", "integer"),
  query(
    "propagationPolicy",
    "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
    "string",
  ),
];

const BODY_TYPES = ["application/json", "application/yaml"] as const;

/** POST/PUT body: the object itself. */
export function objectBody(schema: JsonObject): JsonObject {
  return { required: true, content: Object.fromEntries(BODY_TYPES.map((t) => [t, { schema }])) };
}

/** PATCH body: the patch document in each patch flavour the server accepts. */
export function patchBody(strategic: boolean): JsonObject {
  const types = [
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    ...(strategic ? ["application/strategic-merge-patch+json"] : []),
  ];
  return { required: true, content: Object.fromEntries(types.map((t) => [t, { schema: refTo(PATCH) }])) };
}

export function deleteBody(): JsonObject {
  return { content: { "application/json": { schema: refTo(DELETE_OPTIONS) } } };
}

/** Responses keyed by status code, each offering JSON and YAML with the given schema. */
export function responses(codes: readonly string[], schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const code of codes) {
    out[code] = {
      description: code === "201" ? "Created" : code === "202" ? "Accepted" : "OK",
      content: Object.fromEntries(BODY_TYPES.map((t) => [t, { schema }])),
    };
  }
  out["401"] = { description: "Unauthorized" };
  return out;
}
