/**
 * The view of a Node that agents receive: what the overlay, DNS and the pod manager read from
 * peers (name, labels, flannel annotations, podCIDR, taints, addresses), without the status
 * that changes on every heartbeat.
 *
 * Design notes
 * - Why: every node's desired set holds every Node (the overlay needs its peers). Shipping full
 *   Nodes made each status write of any node a delta to every node: with N nodes each reporting
 *   status, fleet-squared traffic (5,000 nodes → 25 million deltas per round of reports), and a
 *   3× larger snapshot. Only a change of this view is a change of the agents' sets; a Node
 *   status write that leaves it equal is not sent at all (desired-index.ts).
 * - The view carries no metadata.resourceVersion: the Node's own one moves with every status
 *   write, which would make equal views differ byte-wise (and the set digest, set-digest.ts,
 *   after a hub restart). The envelope's entry revision orders views instead.
 * - Dropped: status (except addresses), managedFields, the last-applied annotation (a copy of
 *   the whole object), and spec except podCIDR(s). Taints in particular: when a partition makes
 *   the lifecycle controller taint every node unreachable, shipping those taints to every node
 *   on reconnect would again be fleet-squared, and no agent component reads them (scheduling
 *   and eviction happen on the hub).
 */
import { isObject, type KubeObject } from "../../api/object.js";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** The agent-facing projection of a Node. */
export function nodeView(node: KubeObject): KubeObject {
  const m = node.metadata;
  const metadata: KubeObject["metadata"] = { name: m.name };
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  if (m.labels !== undefined) metadata.labels = m.labels;
  if (m.annotations !== undefined) {
    const { [LAST_APPLIED]: _dropped, ...annotations } = m.annotations;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  }
  const view: KubeObject = { apiVersion: node.apiVersion ?? "v1", kind: node.kind ?? "Node", metadata };
  if (isObject(node.spec)) {
    const { podCIDR, podCIDRs } = node.spec;
    const spec: Record<string, unknown> = {};
    if (podCIDR !== undefined) spec.podCIDR = podCIDR;
    if (podCIDRs !== undefined) spec.podCIDRs = podCIDRs;
    view.spec = spec;
  }
  const addresses = isObject(node.status) ? node.status.addresses : undefined;
  if (Array.isArray(addresses)) view.status = { addresses };
  return view;
}

/** Whether two views say the same thing. */
export function sameView(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
