/**
 * The hub's object store with its admission chain: a composition helper for hub.ts.
 *
 * Design notes
 * - Admission runs inside the store (every writer passes through it, HTTP or in-process):
 *   RBAC escalation, Service allocation, storage-in-use protection, service-account defaults
 *   for pods and the default StorageClass for claims; custom resources get their schema check.
 * - The escalation check needs the RBAC authorizer, which needs a client of this very store:
 *   it is plugged in afterwards through `setEscalation`, and until then no check runs (only the
 *   hub's own bootstrap writes happen before it).
 * - The acting user of an HTTP request reaches admission in the write's options (`user`);
 *   in-process writes carry none (the hub trusts itself). Not an AsyncLocalStorage: on node 20
 *   one run() turns on promise hooks for the whole process for good, and every promise of every
 *   request then paid for them (≈3% of a create's hub CPU in the profile, for a check that only
 *   RBAC writes need).
 */
import type { KubeObject } from "../api/object.js";
import { ServiceAccountAdmission } from "./apiserver/admission/service-account.js";
import { ServiceAllocator, wellKnownServiceIPs } from "./apiserver/admission/service-allocator.js";
import type { EscalationCheck } from "./apiserver/authz/index.js";
import { builtinResources } from "./apiserver/builtin-resources.js";
import { decodeStored } from "./apiserver/codec.js";
import { CustomResourceCatalog } from "./apiserver/custom-resources/index.js";
import { ObjectStore } from "./apiserver/object-store.js";
import { ResourceRegistry } from "./apiserver/registry.js";
import { applyDefaultStorageClass, protectionAdmit } from "./controllers/volume/index.js";
import type { SqliteBackend } from "./store/index.js";

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export interface HubStoreOptions {
  backend: SqliteBackend;
  serviceCIDR: string;
  nodePortRange: [number, number];
  /** is the garbage collector running (deletes with Foreground/Orphan get their finalizers) */
  gcEnabled: () => boolean;
}

export interface HubStore {
  store: ObjectStore;
  registry: ResourceRegistry;
  crds: CustomResourceCatalog;
  getServiceAccount(ns: string, name: string): Promise<KubeObject | undefined>;
  /** plugs in RBAC's escalation check once the authorizer exists */
  setEscalation(check: EscalationCheck): void;
}

export function createHubStore(opts: HubStoreOptions): HubStore {
  const registry = new ResourceRegistry(builtinResources());
  const crds = new CustomResourceCatalog(registry);
  const allocator = new ServiceAllocator(opts.backend, {
    serviceCIDR: opts.serviceCIDR,
    nodePortRange: opts.nodePortRange,
    // the kubernetes service and cluster DNS addresses: first and tenth of the service CIDR
    reserved: Object.values(wellKnownServiceIPs(opts.serviceCIDR)),
  });
  const saInfo = registry.byKind("", "ServiceAccount")!;
  const getServiceAccount = (ns: string, name: string): Promise<KubeObject | undefined> =>
    store.tryGet(saInfo, ns, name);
  const saAdmission = new ServiceAccountAdmission({ getServiceAccount });
  let escalation: EscalationCheck | undefined;
  const store: ObjectStore = new ObjectStore({
    backend: opts.backend,
    gcEnabled: opts.gcEnabled,
    admit: async (info, obj, old, user) => {
      if (info.group === "rbac.authorization.k8s.io") escalation?.check(info.kind, obj, user);
      if (info.group === "" && info.kind === "Service") return allocator.admit(obj, old);
      // StorageObjectInUseProtection: a claim or volume in use outlives its deletion
      if (info.group === "" && !old) protectionAdmit(info.kind, obj);
      if (info.group === "" && info.kind === "Pod" && !old) return saAdmission.admit(obj);
      if (info.group === "" && info.kind === "PersistentVolumeClaim" && !old) {
        const sc = registry.byKind("storage.k8s.io", "StorageClass")!;
        const list = await store.backend.list(store.prefix(sc));
        applyDefaultStorageClass(
          obj,
          list.items.map((kv) => decodeStored(kv.value, kv.revision)),
        );
      }
    },
    customResource: (info, obj, old) => crds.admit(info, obj, old),
  });
  return {
    store,
    registry,
    crds,
    getServiceAccount,
    setEscalation: (check) => {
      escalation = check;
    },
  };
}

/** the namespaces every cluster has from the start; idempotent */
export async function ensureDefaultNamespaces(store: ObjectStore, registry: ResourceRegistry): Promise<void> {
  const ns = registry.byKind("", "Namespace")!;
  for (const name of DEFAULT_NAMESPACES) {
    if (!(await store.tryGet(ns, undefined, name))) {
      await store.create(ns, undefined, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name },
      } as KubeObject);
    }
  }
}
