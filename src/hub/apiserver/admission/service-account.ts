/**
 * ServiceAccount admission for Pods (upstream plugin/pkg/admission/serviceaccount), on create:
 *
 * - spec.serviceAccountName defaults to `default`; the ServiceAccount must exist, or the create
 *   is Forbidden ("error looking up service account ns/name: …"). The `default` one is made by
 *   the namespace controller right after its namespace, so it is looked up again for up to ~4 s
 *   before a pod in a brand-new namespace is refused (upstream: 10 attempts, ~1.5 s; a loaded
 *   Pi needs more room than that).
 * - Unless automountServiceAccountToken is false (the pod's setting wins over the
 *   ServiceAccount's), a projected volume `kube-api-access-<5 random chars>` — token (bound,
 *   3607 s), kube-root-ca.crt's ca.crt, the namespace — is mounted read-only at
 *   /var/run/secrets/kubernetes.io/serviceaccount in every init and app container that has no
 *   mount at that path already. A pod that already carries a kube-api-access-* volume keeps it.
 * - imagePullSecrets are copied from the ServiceAccount when the pod names none.
 * - Mirror pods (annotation kubernetes.io/config.mirror) are left alone.
 *
 * The mutation itself (`mountServiceAccountToken`) is pure, for unit tests; the class adds the
 * lookups. It runs after validation in our store, so what it adds is valid by construction.
 */
import { ApiError } from "../../../api/errors.js";
import { isObject, type JsonObject, type KubeObject } from "../../../api/object.js";

export const DEFAULT_SERVICE_ACCOUNT = "default";
export const TOKEN_VOLUME_PREFIX = "kube-api-access-";
export const TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** upstream's WarnOnlyBoundTokenExpirationSeconds: the duration projected volumes ask for */
export const TOKEN_VOLUME_EXPIRATION_SECONDS = 3607;
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/** the projected source upstream's TokenVolumeSource() builds */
export function tokenVolumeSource(): JsonObject {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { path: "token", expirationSeconds: TOKEN_VOLUME_EXPIRATION_SECONDS } },
      { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
      {
        downwardAPI: {
          items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
        },
      },
    ],
  };
}

function objects(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** upstream's shouldAutomount: the pod's explicit choice, else the ServiceAccount's, else yes */
export function shouldAutomount(sa: KubeObject | undefined, spec: JsonObject): boolean {
  if (typeof spec.automountServiceAccountToken === "boolean") return spec.automountServiceAccountToken;
  const saChoice = sa?.automountServiceAccountToken;
  return typeof saChoice === "boolean" ? saChoice : true;
}

/** Adds the token volume and its mounts (upstream mountServiceAccountToken); mutates `spec`. */
export function mountServiceAccountToken(
  spec: JsonObject,
  random: () => number = Math.random,
): string | undefined {
  const volumes = objects(spec.volumes);
  const names = new Set(volumes.map((v) => v.name));
  let volumeName = volumes.find((v) => typeof v.name === "string" && v.name.startsWith(TOKEN_VOLUME_PREFIX))
    ?.name as string | undefined;
  const hasVolume = volumeName !== undefined;
  while (volumeName === undefined || (!hasVolume && names.has(volumeName))) {
    let suffix = "";
    for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(random() * NAME_CHARS.length)];
    volumeName = `${TOKEN_VOLUME_PREFIX}${suffix}`;
  }
  let needed = false;
  for (const list of ["initContainers", "containers"] as const) {
    for (const c of objects(spec[list])) {
      const mounts = objects(c.volumeMounts);
      if (mounts.some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (!needed) return undefined;
  if (!hasVolume) spec.volumes = [...volumes, { name: volumeName, projected: tokenVolumeSource() }];
  return volumeName;
}

export interface ServiceAccountAdmissionOptions {
  getServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** waits between lookups of the `default` ServiceAccount (tests pass a no-op) */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class ServiceAccountAdmission {
  constructor(private readonly opts: ServiceAccountAdmissionOptions) {}

  async admit(pod: KubeObject): Promise<void> {
    const meta = pod.metadata;
    if (meta.annotations?.[MIRROR_ANNOTATION] !== undefined) return;
    if (!isObject(pod.spec)) pod.spec = {};
    const spec = pod.spec as JsonObject;
    if (typeof spec.serviceAccountName !== "string" || spec.serviceAccountName === "") {
      spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
    }
    spec.serviceAccount = spec.serviceAccountName;
    const ns = meta.namespace ?? "default";
    const name = spec.serviceAccountName as string;
    const sa = await this.lookup(ns, name);
    if (!sa) {
      throw ApiError.forbidden(
        `pods "${meta.name ?? ""}" is forbidden: error looking up service account ${ns}/${name}: ` +
          `serviceaccount "${name}" not found` +
          (name === DEFAULT_SERVICE_ACCOUNT
            ? " (it is created with the namespace; try again in a moment)"
            : ` (create it with: kubectl create serviceaccount ${name} -n ${ns})`),
      );
    }
    if (shouldAutomount(sa, spec)) mountServiceAccountToken(spec, this.opts.random);
    const pullSecrets = objects(sa.imagePullSecrets);
    if (objects(spec.imagePullSecrets).length === 0 && pullSecrets.length > 0) {
      spec.imagePullSecrets = pullSecrets.map((s) => ({ name: s.name }));
    }
  }

  private async lookup(ns: string, name: string): Promise<KubeObject | undefined> {
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? 27 : 1;
    const sleep = this.opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const interval = 100 + Math.floor(Math.random() * 100);
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(interval);
      const sa = await this.opts.getServiceAccount(ns, name);
      if (sa) return sa;
    }
    return undefined;
  }
}
