/**
 * StatusWriter: the hub's StatusSink — where the status reported by nodes lands.
 *
 *   node/<name>        node status  → NodeHeartbeats (written on change, coalesced otherwise)
 *   lease/<name>       heartbeat    → NodeHeartbeats (memory; flushed on a timer)
 *   pod/<ns>/<name>    pod status   → the Pod's status subresource
 *   event/<uid>        an Event     → created (or its count bumped) in the store
 *   pv/<name>          {result}     → local-path volume reclaimed on the node: drop the PV's
 *                                     cleanup finalizer (Deleted: directory gone; Retained: kept)
 *   storage/<name>     {capacity, free, paths?} → the Node's storage annotations (the scheduler's
 *                      free-space filter and the provisioner read them; see storage/capacity.ts)
 *   node-annotations/<name>  {annotations} → merged into the Node's metadata.annotations, only
 *                      keys under flannel.alpha.coreos.com/ (the overlay's VTEP MAC, public IP)
 *
 * Design notes
 * - A node may only speak for itself and its own pods: a report for another node or for a pod
 *   bound elsewhere is dropped (and logged). Stale reports are already dropped by SyncHub, which
 *   orders each key's reports by the agent's outbox sequence.
 * - observedRevision guards against a pod deleted and re-created under the same name: a report
 *   computed from a revision older than the current pod's creation belongs to the old pod.
 * - Final deletion (the kubelet's job upstream): a pod marked for deletion whose reported status
 *   has no running container is deleted with grace 0 (uid precondition), so `kubectl delete pod`
 *   completes once the agent stopped it.
 * - Returning normally means "applied or deliberately dropped" (the agent deletes it from its
 *   outbox); throwing means "try again" (store trouble), per the StatusSink contract.
 */
import { createHash } from "node:crypto";
import { isObject, type KubeObject } from "../../api/object.js";
import { quantityError } from "../../api/quantity.js";
import { metaTime } from "../../api/time.js";
import { type Client, isNotFound, refs } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";
import {
  checkBasePath,
  LOCAL_PATH_FINALIZER,
  LOCAL_PATH_NODE_ANNOTATION,
  STORAGE_CAPACITY_ANNOTATION,
  STORAGE_FREE_ANNOTATION,
  STORAGE_PATHS_ANNOTATION,
} from "../../storage/names.js";
import type { StatusUpdate } from "../../transport/envelope.js";
import type { StatusSink } from "../../transport/sync-hub.js";
import { conditionsOf, mergeConditions } from "./conditions.js";
import { podNode } from "./desired-refs.js";
import type { NodeHeartbeats } from "./heartbeats.js";

/** Annotation keys an agent may set on its own Node (the overlay's, flannel-compatible). */
export const OVERLAY_ANNOTATION_PREFIX = "flannel.alpha.coreos.com/";

export interface StatusWriterOptions {
  client: Client;
  heartbeats: NodeHeartbeats;
  /** revision at which the pod now stored under ns/name was created (undefined: none) */
  podCreateRevision: (namespace: string, name: string) => Promise<number | undefined>;
  logger: Logger;
  now?: () => Date;
}

export class StatusWriter implements StatusSink {
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly opts: StatusWriterOptions) {
    this.log = opts.logger.child({ component: "status-writer" });
    this.now = opts.now ?? (() => new Date());
  }

  async apply(node: string, u: StatusUpdate): Promise<void> {
    const [kind, ...rest] = u.key.split("/");
    switch (kind) {
      case "lease":
        if (rest[0] === node && rest.length === 1) this.opts.heartbeats.renew(node);
        else this.refuse(node, u.key, "a node may only renew its own lease");
        return;
      case "node":
        if (rest[0] !== node || rest.length !== 1)
          return this.refuse(node, u.key, "a node may only report its own status");
        if (!isObject(u.status)) return this.refuse(node, u.key, "node status must be an object");
        return this.opts.heartbeats.reportStatus(node, u.status);
      case "pod":
        if (rest.length !== 2 || !isObject(u.status))
          return this.refuse(node, u.key, "expected pod/<namespace>/<name> with an object");
        return this.podStatus(node, rest[0]!, rest[1]!, u.status, u.observedRevision);
      case "pv":
        if (rest.length !== 1 || !isObject(u.status))
          return this.refuse(node, u.key, "expected pv/<name> with {result}");
        return this.volumeReclaimed(node, rest[0]!, u.status);
      case "storage":
        if (rest[0] !== node || rest.length !== 1 || !isObject(u.status))
          return this.refuse(node, u.key, "a node may only report its own storage, as an object");
        return this.storage(node, u.status);
      case "node-annotations":
        if (rest[0] !== node || rest.length !== 1)
          return this.refuse(node, u.key, "a node may only annotate its own Node");
        return this.nodeAnnotations(node, u.status);
      case "event":
        if (rest.length !== 1 || !isObject(u.status))
          return this.refuse(node, u.key, "expected event/<uid> with an Event");
        return this.event(node, rest[0]!, u.status);
      default:
        return this.refuse(node, u.key, "unknown status key kind");
    }
  }

  /**
   * The overlay's annotations (flannel's kube subnet manager writes them with the Node API
   * upstream). Restricted to the flannel prefix so a node cannot relabel itself through this
   * path; unchanged values cost no write.
   */
  private async nodeAnnotations(node: string, status: unknown): Promise<void> {
    const raw = isObject(status) ? status.annotations : undefined;
    if (!isObject(raw)) return this.refuse(node, `node-annotations/${node}`, "expected {annotations: {...}}");
    const want: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (!k.startsWith(OVERLAY_ANNOTATION_PREFIX) || typeof v !== "string")
        return this.refuse(node, `node-annotations/${node}`, `annotation ${k} is not an overlay annotation`);
      want[k] = v;
    }
    const cur = await this.opts.client.get(refs.nodes, undefined, node);
    if (!cur) return; // deleted: a re-join registers it again
    const have = cur.metadata.annotations ?? {};
    if (Object.entries(want).every(([k, v]) => have[k] === v)) return;
    try {
      await this.opts.client.mutate(refs.nodes, undefined, node, (n) => ({
        ...n,
        metadata: { ...n.metadata, annotations: { ...n.metadata.annotations, ...want } },
      }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private refuse(node: string, key: string, why: string): void {
    this.log.warn({ node, key }, `status report dropped: ${why}`);
  }

  private async podStatus(
    node: string,
    ns: string,
    name: string,
    status: Record<string, unknown>,
    observedRevision: number | undefined,
  ): Promise<void> {
    const pod = await this.opts.client.get(refs.pods, ns, name);
    if (!pod) return; // deleted meanwhile: nothing to report on
    if (podNode(pod) !== node)
      return this.refuse(node, `pod/${ns}/${name}`, "the pod is not bound to this node");
    if (observedRevision !== undefined) {
      const created = await this.opts.podCreateRevision(ns, name);
      if (created !== undefined && observedRevision < created) {
        this.log.debug({ node, pod: `${ns}/${name}` }, "status of an earlier pod with this name dropped");
        return;
      }
    }
    const at = metaTime(this.now());
    const uid = pod.metadata.uid;
    let updated: KubeObject;
    try {
      updated = await this.opts.client.mutate(
        refs.pods,
        ns,
        name,
        (cur) => {
          if (cur.metadata.uid !== uid) return cur;
          const stored = (cur.status as Record<string, unknown> | undefined) ?? {};
          const conditions = mergeConditions(conditionsOf(stored), conditionsOf(status), at, {
            heartbeat: false,
          });
          const next: Record<string, unknown> = { ...status, conditions };
          if (stored.qosClass !== undefined && next.qosClass === undefined) next.qosClass = stored.qosClass;
          if (stored.nominatedNodeName !== undefined) next.nominatedNodeName ??= stored.nominatedNodeName;
          return { ...cur, status: next };
        },
        { status: true },
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (updated.metadata.deletionTimestamp && !anyRunning(status)) {
      await this.opts.client
        .delete(refs.pods, ns, name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) })
        .catch((err: unknown) => {
          if (!isNotFound(err) && (err as { code?: unknown }).code !== 409) throw err;
        });
    }
  }

  /** The agent reclaimed a volume on its disk: the PV may go (only its own node may say so). */
  private async volumeReclaimed(node: string, name: string, st: Record<string, unknown>): Promise<void> {
    const pv = await this.opts.client.get(refs.persistentvolumes, undefined, name);
    if (!pv) return;
    if (pv.metadata.annotations?.[LOCAL_PATH_NODE_ANNOTATION] !== node)
      return this.refuse(node, `pv/${name}`, "the volume is not on this node's disk");
    if (typeof st.uid === "string" && st.uid !== pv.metadata.uid) return; // an earlier PV of that name
    if (!pv.metadata.finalizers?.includes(LOCAL_PATH_FINALIZER)) return;
    this.log.info({ node, pv: name, result: st.result }, "local-path volume reclaimed on its node");
    try {
      await this.opts.client.mutate(refs.persistentvolumes, undefined, name, (cur) => ({
        ...cur,
        metadata: {
          ...cur.metadata,
          finalizers: (cur.metadata.finalizers ?? []).filter((f) => f !== LOCAL_PATH_FINALIZER),
        },
      }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Capacity and free space of the node's volume bases, as Node annotations (written on change):
   * the default base as storage-capacity/-free, other (nodePath) bases as JSON in storage-paths.
   */
  private async storage(node: string, st: Record<string, unknown>): Promise<void> {
    const capacity = str(st.capacity);
    const free = str(st.free);
    if (!capacity || !free || quantityError(capacity) || quantityError(free))
      return this.refuse(node, `storage/${node}`, "capacity and free must be quantities");
    const paths: Record<string, { capacity: string; free: string }> = {};
    const raw = isObject(st.paths) ? st.paths : {};
    for (const base of Object.keys(raw).sort()) {
      const e = raw[base];
      const c = isObject(e) ? str(e.capacity) : undefined;
      const f = isObject(e) ? str(e.free) : undefined;
      try {
        checkBasePath(base);
      } catch {
        return this.refuse(
          node,
          `storage/${node}`,
          `paths: ${JSON.stringify(base)} is not a usable base path`,
        );
      }
      if (!c || !f || quantityError(c) || quantityError(f))
        return this.refuse(node, `storage/${node}`, `paths["${base}"]: capacity and free must be quantities`);
      paths[base] = { capacity: c, free: f };
    }
    const pathsJson = Object.keys(paths).length > 0 ? JSON.stringify(paths) : undefined;
    const same = (o: KubeObject | undefined) =>
      o?.metadata.annotations?.[STORAGE_CAPACITY_ANNOTATION] === capacity &&
      o.metadata.annotations[STORAGE_FREE_ANNOTATION] === free &&
      o.metadata.annotations[STORAGE_PATHS_ANNOTATION] === pathsJson;
    const current = await this.opts.client.get(refs.nodes, undefined, node);
    if (!current || same(current)) return;
    try {
      await this.opts.client.mutate(refs.nodes, undefined, node, (cur) => {
        const annotations: Record<string, string> = {
          ...cur.metadata.annotations,
          [STORAGE_CAPACITY_ANNOTATION]: capacity,
          [STORAGE_FREE_ANNOTATION]: free,
        };
        if (pathsJson) annotations[STORAGE_PATHS_ANNOTATION] = pathsJson;
        else delete annotations[STORAGE_PATHS_ANNOTATION];
        return { ...cur, metadata: { ...cur.metadata, annotations } };
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async event(node: string, uid: string, ev: Record<string, unknown>): Promise<void> {
    const involved = isObject(ev.involvedObject) ? ev.involvedObject : {};
    const meta = isObject(ev.metadata) ? ev.metadata : {};
    const ns = str(meta.namespace) ?? str(involved.namespace) ?? "default";
    // a stable name per agent event uid, so a resent report updates instead of duplicating
    const name =
      str(meta.name) ??
      `${str(involved.name) ?? node}.${createHash("sha256").update(`${node}/${uid}`).digest("hex").slice(0, 16)}`;
    const at = metaTime(this.now());
    const body: KubeObject = {
      ...ev,
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: ns },
      involvedObject: involved,
      source: isObject(ev.source)
        ? { ...ev.source, host: node }
        : { component: "edgekube-agent", host: node },
      reportingComponent: str(ev.reportingComponent) ?? "edgekube-agent",
      reportingInstance: node,
      firstTimestamp: str(ev.firstTimestamp) ?? at,
      lastTimestamp: str(ev.lastTimestamp) ?? at,
      count: typeof ev.count === "number" ? ev.count : 1,
    };
    try {
      await this.opts.client.create(refs.events, ns, body);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 409) {
        await this.opts.client.mutate(refs.events, ns, name, (cur) => ({
          ...cur,
          count: body.count,
          message: body.message,
          lastTimestamp: body.lastTimestamp,
        }));
        return;
      }
      if (code === 404 || code === 422 || code === 400 || code === 403) {
        return this.refuse(node, `event/${uid}`, `the event was not accepted: ${(err as Error).message}`);
      }
      throw err;
    }
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function anyRunning(status: Record<string, unknown>): boolean {
  const lists = [status.containerStatuses, status.initContainerStatuses, status.ephemeralContainerStatuses];
  return lists.some(
    (l) => Array.isArray(l) && l.some((c) => isObject(c) && isObject(c.state) && isObject(c.state.running)),
  );
}
