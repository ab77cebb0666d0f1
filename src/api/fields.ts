/**
 * Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Running`) and the
 * selectable fields each kind exposes.
 *
 * Design notes:
 * - The grammar is apimachinery's fields.ParseSelector: terms split on unescaped commas,
 *   operators `!=`, `==`, `=` found left to right, values unescaped (`\,` `\=` `\\`). Upstream
 *   only knows equality, so the matcher is a conjunction of (in)equalities over strings.
 * - The matcher takes a `getField(path)` so callers can match against whatever they hold (a
 *   stored row's indexed columns, a decoded object via `fieldsForObject`). A missing field
 *   reads as "" as in upstream's fields.Set.
 * - `fieldsForObject` mirrors each registry's ToSelectableFields; a label outside that set is
 *   refused with upstream's "field label not supported: <label>" before any matching.
 */
import type { KubeObject } from "./object.js";
import { isObject } from "./object.js";

export interface FieldTerm {
  readonly field: string;
  readonly operator: "=" | "!=";
  readonly value: string;
}

export interface FieldMatcher {
  readonly terms: readonly FieldTerm[];
  readonly everything: boolean;
  matches(getField: (path: string) => string | undefined): boolean;
  toString(): string;
}

export class FieldSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FieldSelectorError";
  }
}

function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const TERM_OPERATORS = ["!=", "==", "="] as const;

function splitTerm(term: string): [string, string, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

function unescapeValue(s: string): string {
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === "\\") inSlash = true;
    else if (c === "," || c === "=") {
      throw new FieldSelectorError(
        `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`,
      );
    } else out += c;
  }
  if (inSlash) throw new FieldSelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}

const escapeValue = (v: string): string => v.replace(/[\\,=]/g, (c) => `\\${c}`);

export function fieldMatcherOf(terms: FieldTerm[]): FieldMatcher {
  return {
    terms,
    everything: terms.length === 0,
    matches: (getField) =>
      terms.every((t) => ((getField(t.field) ?? "") === t.value) === (t.operator === "=")),
    toString: () => terms.map((t) => `${t.field}${t.operator}${escapeValue(t.value)}`).join(","),
  };
}

/** Parse a `?fieldSelector=` string; throws FieldSelectorError with upstream's message. */
export function parseFieldSelector(selector: string): FieldMatcher {
  const terms: FieldTerm[] = [];
  for (const part of splitTerms(selector).sort()) {
    if (part === "") continue;
    const split = splitTerm(part);
    if (!split) throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [field, op, rhs] = split;
    terms.push({ field, operator: op === "!=" ? "!=" : "=", value: unescapeValue(rhs) });
  }
  return fieldMatcherOf(terms);
}

const str = (v: unknown): string =>
  typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
const obj = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});

/** Upstream's selectable fields for `kind` in `group`, with their values in `o`. */
export function fieldsForObject(group: string, kind: string, o: KubeObject): Record<string, string> {
  const fields: Record<string, string> = {
    "metadata.name": str(o.metadata?.name),
    "metadata.namespace": str(o.metadata?.namespace),
  };
  const spec = obj(o.spec);
  const status = obj(o.status);
  const key = `${group}/${kind}`;
  switch (key) {
    case "/Pod": {
      const podIPs = Array.isArray(status.podIPs) ? status.podIPs : [];
      fields["spec.nodeName"] = str(spec.nodeName);
      fields["spec.restartPolicy"] = str(spec.restartPolicy);
      fields["spec.schedulerName"] = str(spec.schedulerName);
      fields["spec.serviceAccountName"] = str(spec.serviceAccountName);
      fields["spec.hostNetwork"] = spec.hostNetwork === true ? "true" : "false";
      fields["status.phase"] = str(status.phase);
      fields["status.podIP"] = podIPs.length > 0 ? str(obj(podIPs[0]).ip) : str(status.podIP);
      fields["status.nominatedNodeName"] = str(status.nominatedNodeName);
      break;
    }
    case "/Event": {
      const io = obj(o.involvedObject);
      const source = obj(o.source);
      fields["involvedObject.kind"] = str(io.kind);
      fields["involvedObject.namespace"] = str(io.namespace);
      fields["involvedObject.name"] = str(io.name);
      fields["involvedObject.uid"] = str(io.uid);
      fields["involvedObject.apiVersion"] = str(io.apiVersion);
      fields["involvedObject.resourceVersion"] = str(io.resourceVersion);
      fields["involvedObject.fieldPath"] = str(io.fieldPath);
      fields.reason = str(o.reason);
      fields.reportingComponent = str(o.reportingComponent);
      fields.source = str(source.component) || str(o.reportingComponent);
      fields.type = str(o.type);
      break;
    }
    case "/Node":
      fields["spec.unschedulable"] = spec.unschedulable === true ? "true" : "false";
      break;
    case "/Secret":
      fields.type = str(o.type);
      break;
    case "/Namespace":
      fields["status.phase"] = str(status.phase);
      break;
    case "/ReplicationController":
    case "apps/ReplicaSet":
      fields["status.replicas"] = String(typeof status.replicas === "number" ? status.replicas : 0);
      break;
    case "batch/Job":
      fields["status.successful"] = String(typeof status.succeeded === "number" ? status.succeeded : 0);
      break;
  }
  return fields;
}

const METADATA_FIELDS = ["metadata.name", "metadata.namespace"];
const KIND_FIELDS: Record<string, readonly string[]> = {
  "/Pod": [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  "/Event": [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  "/Node": ["spec.unschedulable"],
  "/Secret": ["type"],
  "/Namespace": ["status.phase"],
  "/ReplicationController": ["status.replicas"],
  "apps/ReplicaSet": ["status.replicas"],
  "batch/Job": ["status.successful"],
};

/** Field labels a list/watch of this kind may select on. */
export function supportedFieldLabels(group: string, kind: string): string[] {
  return [...METADATA_FIELDS, ...(KIND_FIELDS[`${group}/${kind}`] ?? [])];
}

/**
 * Upstream's refusal for a selector on an unsupported field ("field label not supported:
 * spec.foo"), or undefined when every term is selectable. The apiserver answers 400 with it.
 */
export function unsupportedFieldLabelError(group: string, kind: string, m: FieldMatcher): string | undefined {
  const ok = new Set(supportedFieldLabels(group, kind));
  const bad = m.terms.find((t) => !ok.has(t.field));
  return bad ? `field label not supported: ${bad.field}` : undefined;
}

/** Match a parsed field selector against an object of `kind`. */
export function fieldSelectorMatchesObject(
  group: string,
  kind: string,
  m: FieldMatcher,
  o: KubeObject,
): boolean {
  if (m.everything) return true;
  const f = fieldsForObject(group, kind, o);
  return m.matches((p) => f[p]);
}
