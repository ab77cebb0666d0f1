/**
 * The node conditions the edge link writes when a node's link drops and when it comes back
 * (NodeHeartbeats.linkLost / linkRestored). Pure.
 *
 * Design notes
 * - Link lost: the kubelet-owned conditions (Ready and the three pressures) go Unknown with
 *   reason NodeStatusUnknown and LINK_LOST_MESSAGE, as upstream's node lifecycle controller does
 *   when a kubelet stops posting, but at once (last-will) instead of after the lease expires.
 * - Link back: the agent reports its status only when it changes and once an hour (the
 *   connection is its liveness), so the hub restores what the loss hid instead of waiting up to
 *   an hour with a live node NotReady. The best source is the agent's last report; a hub that
 *   restarted since has none, so linkLost keeps the conditions it replaced (`beforeLoss`).
 * - A node marked lost by an earlier hub process, reconnecting to this one, has neither: its
 *   conditions still carry LINK_LOST_MESSAGE. They are restored to what a reporting agent says
 *   of a healthy node (the node lifecycle controller does the same when a lease it judged stale
 *   is renewed), until the agent's next report says otherwise.
 */
import { HEALTHY_NODE_CONDITIONS as HEALTHY, KUBELET_CONDITIONS } from "../../api/node-conditions.js";
import type { Condition } from "./conditions.js";

export const LINK_LOST_MESSAGE = "edgekube-agent stopped posting node status (link lost)";
const UNKNOWN = { status: "Unknown", reason: "NodeStatusUnknown", message: LINK_LOST_MESSAGE };

/** The kubelet conditions marked Unknown (Ready added if the node never had it). */
export function linkLostConditions(stored: readonly Condition[]): Condition[] {
  const lost: Condition[] = stored
    .filter((c) => KUBELET_CONDITIONS.includes(c.type))
    .map((c) => ({ ...c, ...UNKNOWN }));
  if (!lost.some((c) => c.type === "Ready")) lost.push({ type: "Ready", ...UNKNOWN });
  return lost;
}

/**
 * The kubelet conditions a link loss is about to hide, worth restoring on reconnect: only a node
 * that was Ready (not one already Unknown, by an earlier loss or a stale lease).
 */
export function beforeLoss(stored: readonly Condition[]): Condition[] | undefined {
  const kubelet = stored.filter((c) => KUBELET_CONDITIONS.includes(c.type));
  const ready = kubelet.find((c) => c.type === "Ready");
  return ready?.status === "True" ? kubelet.map((c) => ({ ...c })) : undefined;
}

/**
 * For a node reconnecting with nothing to restore from: its link-lost conditions as a healthy
 * agent reports them, or undefined when none carries LINK_LOST_MESSAGE (nothing of ours to undo).
 */
export function healthyAgain(stored: readonly Condition[]): Condition[] | undefined {
  const marked = stored.filter((c) => KUBELET_CONDITIONS.includes(c.type) && c.message === LINK_LOST_MESSAGE);
  if (marked.length === 0) return undefined;
  return marked.map((c) => ({ ...c, ...(HEALTHY[c.type] ?? { status: "Unknown" }) }));
}
