/**
 * Downward API: fieldRef and resourceFieldRef values, shared by env vars and downwardAPI volumes.
 *
 * Design notes (upstream: pkg/fieldpath and pkg/api/v1/resource)
 * - fieldRef paths: metadata.name/namespace/uid, metadata.labels['k'] / annotations['k'],
 *   spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s). Volumes may also
 *   use the whole metadata.labels / metadata.annotations maps, printed `k="v"` one per line,
 *   sorted, without a trailing newline (fieldpath.FormatMap).
 * - resourceFieldRef: a limit that is not set reads as the node's allocatable amount; cpu is
 *   ceil(milli / divisor milli), memory and ephemeral-storage ceil(bytes / divisor bytes).
 * - Errors are `ConfigError`: the container waits with CreateContainerConfigError and the
 *   message says which reference is wrong.
 */
import type { Container, Pod, ResourceFieldSelector } from "kubernetes-types/core/v1";
import { toBytes, toMilli } from "../../api/quantity.js";

export class ConfigError extends Error {
  readonly reason = "CreateContainerConfigError";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** What the downward API can see beyond the pod object itself. */
export interface DownwardContext {
  pod: Pod;
  podIP?: string;
  hostIP?: string;
  /** node allocatable, for limits that are not set */
  allocatable: { cpuMilli: number; memoryBytes: number; ephemeralBytes: number };
}

/** Go's %q for the common case: JSON string quoting matches it for printable text. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m?.[k] ?? "")}`)
    .join("\n");
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** One fieldRef value; `allowMaps` for volumes, where whole label/annotation maps are allowed. */
export function fieldRefValue(ctx: DownwardContext, fieldPath: string, allowMaps = false): string {
  const { pod } = ctx;
  const meta = pod.metadata ?? {};
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub) {
    const map = sub[1] === "labels" ? meta.labels : meta.annotations;
    return map?.[sub[2]!] ?? "";
  }
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return ctx.podIP ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      return ctx.hostIP ?? "";
  }
  if (allowMaps && fieldPath === "metadata.labels") return formatMap(meta.labels);
  if (allowMaps && fieldPath === "metadata.annotations") return formatMap(meta.annotations);
  throw new ConfigError(
    `unsupported fieldRef fieldPath "${fieldPath}": use metadata.name, metadata.namespace, metadata.uid, ` +
      "metadata.labels['KEY'], metadata.annotations['KEY'], spec.nodeName, spec.serviceAccountName, " +
      "status.podIP or status.hostIP",
  );
}

function findContainer(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

/** One resourceFieldRef value; `fallbackContainer` is the env var's own container. */
export function resourceFieldValue(
  ctx: DownwardContext,
  ref: ResourceFieldSelector,
  fallbackContainer?: string,
): string {
  const name = ref.containerName || fallbackContainer;
  const c = name === undefined ? undefined : findContainer(ctx.pod, name);
  if (!c) {
    throw new ConfigError(
      `resourceFieldRef "${ref.resource}" names container "${name ?? ""}", which is not in the pod: set containerName to one of its containers`,
    );
  }
  const [kind, resource] = ref.resource.split(".", 2);
  const divisor = ref.divisor ?? "1";
  const set =
    kind === "limits" ? c.resources?.limits : kind === "requests" ? c.resources?.requests : undefined;
  if (set === undefined && kind !== "limits" && kind !== "requests") {
    throw new ConfigError(`unsupported resourceFieldRef resource "${ref.resource}"`);
  }
  const raw = set?.[resource ?? ""];
  if (resource === "cpu") {
    const milli = raw !== undefined ? toMilli(raw) : kind === "limits" ? ctx.allocatable.cpuMilli : 0;
    return String(Math.ceil(milli / Math.max(1, toMilli(divisor))));
  }
  if (resource === "memory" || resource === "ephemeral-storage") {
    const fallback = resource === "memory" ? ctx.allocatable.memoryBytes : ctx.allocatable.ephemeralBytes;
    const bytes = raw !== undefined ? toBytes(raw) : kind === "limits" ? fallback : 0;
    return String(Math.ceil(bytes / Math.max(1, toBytes(divisor))));
  }
  throw new ConfigError(
    `unsupported resourceFieldRef resource "${ref.resource}": use limits.cpu, limits.memory, ` +
      "limits.ephemeral-storage, requests.cpu, requests.memory or requests.ephemeral-storage",
  );
}
