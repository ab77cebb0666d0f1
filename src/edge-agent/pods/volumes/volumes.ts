/**
 * A pod's volumes: prepared on disk before its containers start, refreshed on every sync (so a
 * changed ConfigMap reaches running containers), turned into bind mounts per container, and
 * removed with the pod.
 *
 * Design notes
 * - Every directory this module creates is under DATA_DIR/pods/<uid>/ (paths.ts), except the
 *   user's own hostPath and the claim directories the VolumeHost hands out.
 * - configMap, secret, downwardAPI and projected volumes are projected with the atomic writer
 *   and mounted read-only, as upstream does since 1.10.
 * - subPath / subPathExpr mounts are resolved per container (subPathExpr expands `$(VAR)` from
 *   the container's env) and refused on traversal; such mounts do not see later updates,
 *   exactly like upstream's subPath bind mounts.
 * - Setup errors are VolumeError (FailedMount); the pod waits and is retried. Service account
 *   tokens come from the PodSource (the hub, over the link): a pod waits for its first token,
 *   but a failed refresh keeps the files already projected, so a running pod is never held
 *   back by a hub it cannot reach.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Container, ServiceAccountTokenProjection, VolumeProjection } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../../api/object.js";
import { expandVarRefs } from "../../runtime/docker-mapping.js";
import type { BindMount } from "../../runtime/runtime.js";
import { ConfigError, type DownwardContext } from "../downward.js";
import type { ConfigLookup } from "../env.js";
import type { PodSource, VolumeHost } from "../ports.js";
import { writeAtomic } from "./atomic-writer.js";
import { claimPath } from "./claims.js";
import { setupEmptyDir, unmountAll } from "./empty-dir.js";
import { setupHostPath } from "./host-path.js";
import { podDir, resolveSubPath, VolumeError, volumeDir } from "./paths.js";
import { DEFAULT_MODE, downwardPayload, keyPayload, PayloadError, projectedPayload } from "./payloads.js";

export interface PreparedVolume {
  path: string;
  readOnly: boolean;
}

export interface VolumeDeps {
  host: VolumeHost;
  source: PodSource;
  nodeLabels: Record<string, string>;
  isRoot: boolean;
  /** warnings that do not stop the pod (Memory medium without root, token not issued yet) */
  warn(reason: string, message: string): void;
}

/** Prepares (or refreshes) every volume of the pod; throws VolumeError for the first that fails. */
export async function prepareVolumes(
  podObj: KubeObject,
  ctx: DownwardContext,
  deps: VolumeDeps,
): Promise<Map<string, PreparedVolume>> {
  const pod = ctx.pod;
  const uid = pod.metadata?.uid ?? "";
  const ns = pod.metadata?.namespace ?? "";
  const dataDir = deps.host.dataDir;
  const lookup: ConfigLookup = (kind, n, name) => deps.source.get(kind, n, name);
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.name;
    try {
      if (v.emptyDir) {
        const dir = volumeDir(dataDir, uid, "emptydir", name);
        const r = await setupEmptyDir(name, dir, v.emptyDir.medium, v.emptyDir.sizeLimit, deps.isRoot);
        if (r.warning) deps.warn("FailedMount", r.warning);
        out.set(name, { path: r.path, readOnly: false });
      } else if (v.configMap) {
        const dir = volumeDir(dataDir, uid, "configmap", name);
        const obj = lookup("ConfigMap", ns, v.configMap.name ?? "");
        writeAtomic(dir, keyPayload("ConfigMap", obj, v.configMap, v.configMap.defaultMode ?? DEFAULT_MODE));
        out.set(name, { path: dir, readOnly: true });
      } else if (v.secret) {
        const dir = volumeDir(dataDir, uid, "secret", name);
        const obj = lookup("Secret", ns, v.secret.secretName ?? "");
        const src = { ...v.secret, name: v.secret.secretName };
        writeAtomic(dir, keyPayload("Secret", obj, src, v.secret.defaultMode ?? DEFAULT_MODE));
        out.set(name, { path: dir, readOnly: true });
      } else if (v.downwardAPI) {
        const dir = volumeDir(dataDir, uid, "downwardapi", name);
        const mode = v.downwardAPI.defaultMode ?? DEFAULT_MODE;
        writeAtomic(dir, downwardPayload(ctx, v.downwardAPI.items ?? [], mode));
        out.set(name, { path: dir, readOnly: true });
      } else if (v.projected) {
        const dir = volumeDir(dataDir, uid, "projected", name);
        let tokens: Map<ServiceAccountTokenProjection, string>;
        try {
          tokens = await projectedTokens(podObj, name, v.projected.sources ?? [], deps.source);
        } catch (err) {
          if (!(err instanceof VolumeError) || !existsSync(join(dir, "..data"))) throw err;
          // as kubelet: a failed refresh keeps what was projected (the token until it expires,
          // and after), so a pod offline for hours still runs and restarts its containers
          deps.warn("FailedMount", `${err.message}; keeping the files projected before`);
          out.set(name, { path: dir, readOnly: true });
          continue;
        }
        const r = projectedPayload(ctx, v.projected, lookup, (p) => tokens.get(p));
        writeAtomic(dir, r.payload);
        for (const t of r.missingTokens) {
          deps.warn(
            "FailedMount",
            `volume "${name}": no service account token has been issued for this pod yet, so "${t.path}" ` +
              "was left out; the pod runs without an API credential until the hub issues one",
          );
        }
        out.set(name, { path: dir, readOnly: true });
      } else if (v.hostPath) {
        out.set(name, { path: setupHostPath(name, v.hostPath.path, v.hostPath.type), readOnly: false });
      } else if (v.persistentVolumeClaim) {
        const path = claimPath(
          name,
          ns,
          v.persistentVolumeClaim.claimName,
          deps.source,
          deps.host,
          deps.nodeLabels,
        );
        out.set(name, { path, readOnly: v.persistentVolumeClaim.readOnly === true });
      } else {
        throw new VolumeError(
          name,
          "this volume type is not supported by edgekube agents: use emptyDir, configMap, secret, hostPath, " +
            "downwardAPI, projected or persistentVolumeClaim",
        );
      }
    } catch (err) {
      if (err instanceof VolumeError) throw err;
      if (err instanceof PayloadError || err instanceof ConfigError) throw new VolumeError(name, err.message);
      throw new VolumeError(name, (err as Error).message);
    }
  }
  return out;
}

/**
 * Tokens of a projected volume's serviceAccountToken sources, fetched before the payload is
 * built (the source may have to ask the hub); an error fails the mount with the reason.
 */
async function projectedTokens(
  pod: KubeObject,
  volume: string,
  sources: readonly VolumeProjection[],
  source: PodSource,
): Promise<Map<ServiceAccountTokenProjection, string>> {
  const out = new Map<ServiceAccountTokenProjection, string>();
  if (!source.serviceAccountToken) return out;
  for (const s of sources) {
    const p = s.serviceAccountToken;
    if (!p) continue;
    const r = await source.serviceAccountToken(pod, p.audience ?? "", p.expirationSeconds ?? 3600);
    if ("error" in r) throw new VolumeError(volume, `failed to fetch token: ${r.error}`);
    out.set(p, r.token);
  }
  return out;
}

/** Bind mounts of one container; throws VolumeError for unknown volumes and bad subPaths. */
export function containerMounts(
  c: Container,
  volumes: ReadonlyMap<string, PreparedVolume>,
  env: ReadonlyMap<string, string>,
): BindMount[] {
  return (c.volumeMounts ?? []).map((m) => {
    const v = volumes.get(m.name);
    if (!v)
      throw new VolumeError(
        m.name,
        `container "${c.name}" mounts volume "${m.name}", which the pod does not define`,
      );
    const sub = m.subPathExpr ? expandVarRefs(m.subPathExpr, env) : m.subPath;
    const hostPath = sub ? resolveSubPath(m.name, v.path, sub) : v.path;
    return { hostPath, containerPath: m.mountPath, readOnly: v.readOnly || m.readOnly === true };
  });
}

/** Removes the pod's directory (tmpfs mounts first); resolves with paths that stay mounted. */
export async function removePodVolumes(dataDir: string, uid: string): Promise<string[]> {
  const dir = podDir(dataDir, uid);
  const stuck = await unmountAll(dir);
  // async: 50 pods deleted at once spent ≈2 s in a synchronous rm, the event loop stalled
  if (stuck.length === 0) await rm(dir, { recursive: true, force: true });
  return stuck;
}
