/**
 * File sets of the projected kinds: configMap, secret, downwardAPI and projected volumes. Pure
 * apart from reading the cache through the lookup: unit-testable.
 *
 * Design notes (upstream: pkg/volume/{configmap,secret,downwardapi,projected})
 * - Without `items` every key becomes a file; with `items` only the listed keys, each at its
 *   path. A missing object or key fails the mount unless `optional`, with upstream's message.
 * - File mode: item.mode, else the volume's defaultMode, else 0644.
 * - serviceAccountToken: the caller fetches tokens first (from the hub, src/edge-agent/tokens)
 *   and hands them in. A token is written only when one is supplied; otherwise the file is left
 *   out and the caller reports it, so a pod never runs with a fake credential it might mistake
 *   for a real one.
 */
import type {
  ConfigMapProjection,
  DownwardAPIVolumeFile,
  KeyToPath,
  ProjectedVolumeSource,
  ServiceAccountTokenProjection,
} from "kubernetes-types/core/v1";
import type { KubeObject } from "../../../api/object.js";
import { type DownwardContext, fieldRefValue, resourceFieldValue } from "../downward.js";
import { type ConfigLookup, configData } from "../env.js";
import type { Payload } from "./atomic-writer.js";

export const DEFAULT_MODE = 0o644;

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

interface KeySource {
  name?: string;
  items?: KeyToPath[];
  optional?: boolean;
}

export function keyPayload(
  kind: "ConfigMap" | "Secret",
  obj: KubeObject | undefined,
  src: KeySource,
  defaultMode: number,
  out: Payload = new Map(),
): Payload {
  const what = kind === "ConfigMap" ? "configmap" : "secret";
  if (!obj) {
    if (src.optional) return out;
    throw new PayloadError(`${what} "${src.name ?? ""}" not found`);
  }
  const data = configData(obj);
  if (!src.items || src.items.length === 0) {
    for (const [k, v] of data) out.set(k, { data: v, mode: defaultMode });
    return out;
  }
  for (const item of src.items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (src.optional) continue;
      throw new PayloadError(
        kind === "ConfigMap"
          ? `configmap references non-existent config key: ${item.key}`
          : `references non-existent secret key: ${item.key}`,
      );
    }
    out.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
  return out;
}

export function downwardPayload(
  ctx: DownwardContext,
  items: DownwardAPIVolumeFile[],
  defaultMode: number,
  out: Payload = new Map(),
): Payload {
  for (const item of items) {
    let value: string;
    if (item.fieldRef) value = fieldRefValue(ctx, item.fieldRef.fieldPath, true);
    else if (item.resourceFieldRef) value = resourceFieldValue(ctx, item.resourceFieldRef);
    else continue;
    out.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
  }
  return out;
}

export interface ProjectedResult {
  payload: Payload;
  /** token projections left out because no token was available */
  missingTokens: ServiceAccountTokenProjection[];
}

export function projectedPayload(
  ctx: DownwardContext,
  src: ProjectedVolumeSource,
  lookup: ConfigLookup,
  token: (p: ServiceAccountTokenProjection) => string | undefined,
): ProjectedResult {
  const ns = ctx.pod.metadata?.namespace ?? "";
  const mode = src.defaultMode ?? DEFAULT_MODE;
  const payload: Payload = new Map();
  const missingTokens: ServiceAccountTokenProjection[] = [];
  for (const s of src.sources ?? []) {
    if (s.configMap) {
      const cm: ConfigMapProjection = s.configMap;
      keyPayload("ConfigMap", lookup("ConfigMap", ns, cm.name ?? ""), cm, mode, payload);
    } else if (s.secret) {
      keyPayload("Secret", lookup("Secret", ns, s.secret.name ?? ""), s.secret, mode, payload);
    } else if (s.downwardAPI) {
      downwardPayload(ctx, s.downwardAPI.items ?? [], mode, payload);
    } else if (s.serviceAccountToken) {
      const t = token(s.serviceAccountToken);
      if (t === undefined) missingTokens.push(s.serviceAccountToken);
      else payload.set(s.serviceAccountToken.path, { data: Buffer.from(t), mode });
    }
  }
  return { payload, missingTokens };
}
