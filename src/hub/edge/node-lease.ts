/**
 * A node's Lease in kube-node-lease as the hub writes it for the node (NodeHeartbeats): renewed
 * in place through the store's owned-fields path, created on the node's first renewal.
 *
 * Design notes
 * - mutate reads the Lease itself: no separate get first (that read, parsed and dropped once per
 *   connected node per flush, was a third of a renewal's cost and garbage); only a node's very
 *   first renewal finds no Lease and creates it.
 * - `ownedFields`: the hub builds every value of a renewal (holder, duration, a time of its own
 *   clock), so the store skips defaults, validation and admission (apiserver/owned-update.ts).
 * - renewTime is a MicroTime, as upstream serializes it (microseconds, "Z").
 */
import type { KubeObject } from "../../api/object.js";
import { microTime } from "../../api/time.js";
import { type Client, isNotFound, refs } from "../../client/client.js";

export const LEASE_NAMESPACE = "kube-node-lease";

/** Writes the node's Lease renewed at `renewed`, creating it if it does not exist yet. */
export async function writeNodeLease(
  client: Client,
  node: string,
  renewed: Date,
  durationSeconds: number,
): Promise<void> {
  const spec = { holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime: microTime(renewed) };
  try {
    await client.mutate(
      refs.leases,
      LEASE_NAMESPACE,
      node,
      (cur) => {
        cur.spec = Object.assign((cur.spec as object | undefined) ?? {}, spec);
        return cur;
      },
      { ownedFields: true },
    );
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await client.create(refs.leases, LEASE_NAMESPACE, leaseObject(node, spec));
  }
}

function leaseObject(node: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: node, namespace: LEASE_NAMESPACE },
    spec,
  };
}
