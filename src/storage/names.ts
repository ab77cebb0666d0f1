/**
 * local-path volumes: the names both sides agree on, and the rules that keep a volume's
 * directory inside its base path. Pure; imported by the hub (provisioning, StorageClass
 * parameters) and by the agent (directory computation), which never import each other.
 *
 * Design notes
 * - A volume's directory is `<base>/<pv>_<namespace>_<pvc>`, k3s's layout. `_` cannot occur in
 *   Kubernetes object names, so the name is unambiguous and the three parts are recoverable.
 * - Names are re-validated on the agent: its cache is not a trust boundary, and a name with `/`
 *   or `..` would turn a `rm -r` of a released volume into a deletion outside the base path.
 * - A StorageClass may name another base path (`parameters.nodePath`, or `basePath`), e.g. a USB
 *   disk. It must be an absolute, normalized path without `..`, and not a system directory: the
 *   agent creates and deletes directories under it as root.
 * - The hub writes `LOCAL_PATH_ROOT/<dir>` into a PV provisioned on the default base; each agent
 *   maps that placeholder to its own `DATA_DIR/storage`, so the hub never needs agent paths.
 */
import { posix } from "node:path";

export const LOCAL_PATH_PROVISIONER = "edgekube.io/local-path";
/** placeholder base of PVs on the agent's default storage dir (DATA_DIR/storage) */
export const LOCAL_PATH_ROOT = "/var/lib/edgekube/storage";
/** on provisioned PVs: the agent removes it once the directory is gone (or retained) */
export const LOCAL_PATH_FINALIZER = "edgekube.io/local-path-cleanup";
/** on provisioned PVs: the node whose disk holds the directory (puts the PV in its desired set) */
export const LOCAL_PATH_NODE_ANNOTATION = "edgekube.io/local-path-node";
/** on Nodes: size and free space of the agent's storage dir (quantities, from `storage/<node>`) */
export const STORAGE_CAPACITY_ANNOTATION = "edgekube.io/storage-capacity";
export const STORAGE_FREE_ANNOTATION = "edgekube.io/storage-free";
/** on Nodes: JSON {"<base>": {capacity, free}} for the other bases it serves (StorageClass nodePath) */
export const STORAGE_PATHS_ANNOTATION = "edgekube.io/storage-paths";
export const ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";

/** A name or path that must not be used for a volume directory; the message says what to do. */
export class StoragePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoragePathError";
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Throws unless `name` is a valid object name of that kind (namespace: DNS label). */
export function checkObjectName(
  kind: "PersistentVolume" | "PersistentVolumeClaim" | "Namespace",
  name: string,
) {
  const label = kind === "Namespace";
  const ok = label
    ? name.length <= 63 && DNS_LABEL.test(name)
    : name.length <= 253 && DNS_SUBDOMAIN.test(name);
  if (!ok) {
    throw new StoragePathError(
      `${kind} name ${JSON.stringify(name)} is not a valid ${label ? "DNS label" : "DNS subdomain"}: ` +
        "refusing to derive a volume directory from it (only lower-case letters, digits, '-' and '.')",
    );
  }
}

/** `<pv>_<namespace>_<pvc>`, after validating each part. */
export function volumeDirName(pv: string, namespace: string, pvc: string): string {
  checkObjectName("PersistentVolume", pv);
  checkObjectName("Namespace", namespace);
  checkObjectName("PersistentVolumeClaim", pvc);
  return `${pv}_${namespace}_${pvc}`;
}

/** directories a volume base may never be, nor be inside of */
const SYSTEM_DIRS = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib64",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
];

/** Throws unless `p` is acceptable as a base path for volume directories. */
export function checkBasePath(p: string, what = "base path"): void {
  const fix = 'use an absolute directory on a data disk, e.g. "/mnt/usb/edgekube"';
  if (p === "" || p.includes("\0")) throw new StoragePathError(`${what} must not be empty: ${fix}`);
  if (!posix.isAbsolute(p))
    throw new StoragePathError(`${what} ${JSON.stringify(p)} is not absolute: ${fix}`);
  if (p.split("/").includes("..")) {
    throw new StoragePathError(`${what} ${JSON.stringify(p)} contains '..': ${fix}`);
  }
  const normal = posix.normalize(p).replace(/\/+$/, "");
  if (normal !== p.replace(/\/+$/, "")) {
    throw new StoragePathError(
      `${what} ${JSON.stringify(p)} is not normalized (write it as ${JSON.stringify(normal || "/")})`,
    );
  }
  if (normal === "" || SYSTEM_DIRS.some((d) => normal === d || normal.startsWith(`${d}/`))) {
    throw new StoragePathError(`${what} ${JSON.stringify(p)} is a system directory: ${fix}`);
  }
}

/**
 * The base path a StorageClass asks for (`parameters.nodePath`, else `parameters.basePath`),
 * validated, without a trailing slash; undefined for the agent's default storage dir.
 */
export function classBasePath(sc: object): string | undefined {
  const params = ((sc as { parameters?: unknown }).parameters ?? {}) as Record<string, unknown>;
  const raw = params.nodePath ?? params.basePath;
  if (raw === undefined) return undefined;
  if (typeof raw !== "string") throw new StoragePathError("StorageClass parameter nodePath must be a string");
  checkBasePath(raw, "StorageClass parameter nodePath");
  return raw.replace(/\/+$/, "");
}
