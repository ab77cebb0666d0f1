/**
 * Typed, read-only queries over the desired cache for the agent's consumers: the pod manager
 * (pods bound to this node and what they reference), DNS and LB (Services, EndpointSlices) and
 * the overlay (Nodes). Every result is a fresh copy (parsed from the cache's JSON), so consumers
 * may keep or change it without touching the cache.
 */
import type {
  ConfigMap,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
} from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { KubeObject } from "../../api/object.js";
import type { CacheChange, DesiredCache } from "./desired-cache.js";
import { formatKey, parseKey, R } from "./keys.js";

export interface PodRef {
  namespace: string;
  name: string;
  /** the pod's cached object after the change; undefined when it was deleted */
  pod: Pod | undefined;
}

export class DesiredView {
  constructor(
    private readonly cache: DesiredCache,
    readonly node: string,
  ) {}

  /** Pods bound to this node (spec.nodeName), ordered by namespace/name. */
  pods(): Pod[] {
    return this.all<Pod>(R.pods).filter((p) => this.isMine(p));
  }

  pod(namespace: string, name: string): Pod | undefined {
    const p = this.one<Pod>(R.pods, namespace, name);
    return p && this.isMine(p) ? p : undefined;
  }

  configMap(namespace: string, name: string): ConfigMap | undefined {
    return this.one<ConfigMap>(R.configMaps, namespace, name);
  }

  secret(namespace: string, name: string): Secret | undefined {
    return this.one<Secret>(R.secrets, namespace, name);
  }

  persistentVolumeClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.one<PersistentVolumeClaim>(R.persistentVolumeClaims, namespace, name);
  }

  persistentVolume(name: string): PersistentVolume | undefined {
    return this.one<PersistentVolume>(R.persistentVolumes, "", name);
  }

  services(namespace?: string): Service[] {
    return this.all<Service>(R.services, namespace);
  }

  endpointSlices(namespace?: string): EndpointSlice[] {
    return this.all<EndpointSlice>(R.endpointSlices, namespace);
  }

  nodes(): Node[] {
    return this.all<Node>(R.nodes);
  }

  /**
   * Pod changes (bound here or no longer), one batch per cache transaction. A pod rebound to
   * another node is reported with `pod: undefined`: for this node it is gone.
   */
  onPodChange(handler: (pods: PodRef[]) => void): () => void {
    return this.cache.onChange((changes: readonly CacheChange[]) => {
      const refs: PodRef[] = [];
      for (const c of changes) {
        if (c.resource !== R.pods) continue;
        const k = parseKey(c.key);
        const pod =
          c.type === "put" && this.isMine(c.object as Pod) ? (structuredClone(c.object) as Pod) : undefined;
        refs.push({ namespace: k.namespace, name: k.name, pod });
      }
      if (refs.length > 0) handler(refs);
    });
  }

  private isMine(p: Pod): boolean {
    return p.spec?.nodeName === this.node;
  }

  private all<T>(resource: string, namespace?: string): T[] {
    return this.cache.list(resource, namespace).map((e) => e.object as KubeObject as T);
  }

  private one<T>(resource: string, namespace: string, name: string): T | undefined {
    const [group = "", res = ""] = resource.split("/");
    const e = this.cache.getEntry(formatKey({ group, resource: res, namespace, name }));
    return e ? (e.object as KubeObject as T) : undefined;
  }
}
