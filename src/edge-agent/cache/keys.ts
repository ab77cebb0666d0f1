/**
 * Keys of the per-node desired set: `<group>/<resource>/<namespace>/<name>`, the core group
 * written "core"; cluster-scoped objects have no namespace part (`core/nodes/pi-1`), like the
 * hub's storage keys without `/registry/` (src/hub/edge/desired-refs.ts).
 * The hub builds them; the agent only parses them to index its cache by kind.
 */

export interface DesiredKey {
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

/** `<group>/<resource>` as stored in the cache's kind column. */
export const R = {
  pods: "core/pods",
  configMaps: "core/configmaps",
  secrets: "core/secrets",
  persistentVolumeClaims: "core/persistentvolumeclaims",
  persistentVolumes: "core/persistentvolumes",
  services: "core/services",
  endpointSlices: "discovery.k8s.io/endpointslices",
  nodes: "core/nodes",
} as const;

export function formatKey(k: DesiredKey): string {
  const group = k.group === "" ? "core" : k.group;
  return k.namespace ? `${group}/${k.resource}/${k.namespace}/${k.name}` : `${group}/${k.resource}/${k.name}`;
}

export function resourceOf(k: DesiredKey): string {
  return `${k.group}/${k.resource}`;
}

export class DesiredKeyError extends Error {
  constructor(key: string) {
    super(
      `desired-set key "${key}" is not <group>/<resource>/<namespace>/<name>: the hub and agent versions disagree; upgrade the older one`,
    );
    this.name = "DesiredKeyError";
  }
}

/** Parses a key; a three-part key (`core/nodes/pi-1`) is a cluster-scoped object. */
export function parseKey(key: string): DesiredKey {
  const parts = key.split("/");
  if (parts.length === 3) parts.splice(2, 0, "");
  const [group, resource, namespace, name] = parts;
  if (parts.length !== 4 || !group || !resource || namespace === undefined || !name) {
    throw new DesiredKeyError(key);
  }
  return { group, resource, namespace, name };
}
