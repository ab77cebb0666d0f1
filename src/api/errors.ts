/**
 * ApiError: the one error type the API speaks. It carries the HTTP code and the
 * Kubernetes `Status` reason, and renders itself as the `Status` body kubectl prints
 * ("Error from server (NotFound): pods \"x\" not found").
 */

export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "TooManyRequests"
  | "InternalError"
  | "ServiceUnavailable"
  | "Timeout";

export type CauseType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueDuplicate"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTypeInvalid"
  | "FieldValueNotFound"
  | "FieldValueTooMany"
  | "InternalError"
  | "UnexpectedServerResponse"
  | "FieldManagerConflict"
  | "ResourceVersionTooLarge"
  | "ExitCode"
  | "DisruptionBudget";

export interface StatusCause {
  reason: CauseType;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never> | { resourceVersion?: string };
  status: "Success" | "Failure";
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
  }

  toStatus(): Status {
    const s: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, "BadRequest", message);
  }
  static unauthorized(message = "Unauthorized"): ApiError {
    return new ApiError(401, "Unauthorized", message);
  }
  static forbidden(message: string): ApiError {
    return new ApiError(403, "Forbidden", message);
  }
  /** `resource` is the plural with its group, as upstream prints it: `deployments.apps` */
  static notFound(resource: string, name: string, group = "", kind?: string): ApiError {
    const d: StatusDetails = { name, group, kind: kind ?? resource };
    return new ApiError(404, "NotFound", `${resource}${group ? `.${group}` : ""} "${name}" not found`, d);
  }
  static alreadyExists(resource: string, name: string, group = ""): ApiError {
    return new ApiError(
      409,
      "AlreadyExists",
      `${resource}${group ? `.${group}` : ""} "${name}" already exists`,
      {
        name,
        group,
        kind: resource,
      },
    );
  }
  static conflict(resource: string, name: string, group = "", why?: string): ApiError {
    const msg =
      why ?? "the object has been modified; please apply your changes to the latest version and try again";
    return new ApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${resource}${group ? `.${group}` : ""} "${name}": ${msg}`,
      {
        name,
        group,
        kind: resource,
      },
    );
  }
  static gone(message: string): ApiError {
    return new ApiError(410, "Expired", message);
  }
  /** 422 with field causes: `The Pod "bad1" is invalid: spec.containers[0].image: Required value` */
  static invalid(kind: string, name: string, causes: StatusCause[], group = ""): ApiError {
    const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const body = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
    return new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${body}`, {
      name,
      group,
      kind,
      causes,
    });
  }
  static methodNotAllowed(message: string): ApiError {
    return new ApiError(405, "MethodNotAllowed", message);
  }
  static unsupportedMediaType(contentType: string): ApiError {
    return new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got "${contentType}")`,
    );
  }
  static tooLarge(message = "the request body is too large"): ApiError {
    return new ApiError(413, "RequestEntityTooLarge", message);
  }
  static serviceUnavailable(message: string): ApiError {
    return new ApiError(503, "ServiceUnavailable", message);
  }
  static internal(message: string, cause?: unknown): ApiError {
    return new ApiError(500, "InternalError", `Internal error occurred: ${message}`, undefined, { cause });
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** Field-error helpers in the wording of apimachinery's field.ErrorList. */
export const fieldErr = {
  required: (field: string, detail = ""): StatusCause => ({
    reason: "FieldValueRequired",
    field,
    message: detail ? `Required value: ${detail}` : "Required value",
  }),
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({
    reason: "FieldValueInvalid",
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): StatusCause => ({
    reason: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({
    reason: "FieldValueDuplicate",
    field,
    message: `Duplicate value: ${JSON.stringify(value)}`,
  }),
  forbidden: (field: string, detail: string): StatusCause => ({
    reason: "FieldValueForbidden",
    field,
    message: `Forbidden: ${detail}`,
  }),
  tooLong: (field: string, max: number): StatusCause => ({
    reason: "FieldValueTooLong",
    field,
    message: `Too long: may not be more than ${max} bytes`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): StatusCause => ({
    reason: "FieldValueTypeInvalid",
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  }),
  notFound: (field: string, value: unknown): StatusCause => ({
    reason: "FieldValueNotFound",
    field,
    message: `Not found: ${JSON.stringify(value)}`,
  }),
  tooMany: (field: string, actual: number, max: number): StatusCause => ({
    reason: "FieldValueTooMany",
    field,
    message: `Too many: ${actual}: must have at most ${max} items`,
  }),
  /**
   * Invalid value whose rendering is given by the caller: upstream prints maps, slices and
   * structs with Go's `%#v` (`map[string]string{"app":"web"}`), which JSON cannot reproduce.
   */
  invalidRendered: (field: string, rendered: string, detail: string): StatusCause => ({
    reason: "FieldValueInvalid",
    field,
    message: `Invalid value: ${rendered}: ${detail}`,
  }),
};
