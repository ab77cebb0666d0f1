/**
 * From Node objects (the agent's cache) to the overlay's inputs: this node's podCIDR and the
 * peer list VxlanOverlay.reconcilePeers() programs — what flannel's kube subnet manager reads.
 *
 * Design notes
 * - A peer needs three facts, all on its Node: `spec.podCIDR` (assigned by the hub's node IPAM
 *   controller), the VTEP MAC (`flannel.alpha.coreos.com/backend-data` {"VtepMAC"}) and the
 *   underlay address (`flannel.alpha.coreos.com/public-ip`, else the InternalIP); whether it
 *   routes same-segment peers directly ("DirectRouting" in the backend data). A node that
 *   has not published them yet (just joined, its agent not started) is skipped with a reason
 *   and picked up on its next Node change; it never blocks the others.
 * - Nodes being deleted are still peers until the object is gone: their pods may still run.
 * - Pure functions over read-only objects, unit tested without netlink.
 */
import type { Node } from "kubernetes-types/core/v1";
import { DIRECT_ROUTING_KEY } from "../../cni/direct-routing.js";
import type { Peer } from "../../cni/peers.js";

export const ANNOTATION_BACKEND_DATA = "flannel.alpha.coreos.com/backend-data";
export const ANNOTATION_PUBLIC_IP = "flannel.alpha.coreos.com/public-ip";
/** Only annotations under this prefix may be set by an agent through the status path. */
export const OVERLAY_ANNOTATION_PREFIX = "flannel.alpha.coreos.com/";

export interface SkippedNode {
  name: string;
  reason: string;
}

/** The podCIDR the hub assigned to `nodeName`, from its cached Node (undefined: not yet). */
export function podCIDRFromNodes(nodes: readonly Node[], nodeName: string): string | undefined {
  const self = nodes.find((n) => n.metadata?.name === nodeName);
  const cidr = self?.spec?.podCIDR;
  return typeof cidr === "string" && cidr !== "" ? cidr : undefined;
}

interface BackendData {
  vtepMAC?: string;
  directRouting: boolean;
}

function backendData(node: Node): BackendData {
  const raw = node.metadata?.annotations?.[ANNOTATION_BACKEND_DATA];
  if (!raw) return { directRouting: false };
  try {
    const data: unknown = JSON.parse(raw);
    if (typeof data !== "object" || data === null) return { directRouting: false };
    const d = data as Record<string, unknown>;
    const mac = d.VtepMAC;
    return {
      ...(typeof mac === "string" && mac !== "" ? { vtepMAC: mac } : {}),
      directRouting: d[DIRECT_ROUTING_KEY] === true,
    };
  } catch {
    return { directRouting: false };
  }
}

function publicIP(node: Node): string | undefined {
  const ann = node.metadata?.annotations?.[ANNOTATION_PUBLIC_IP];
  if (ann) return ann;
  return node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
}

/** Every other node that carries what the overlay needs; the rest are skipped with a reason. */
export function peersFromNodes(
  nodes: readonly Node[],
  selfName: string,
): { peers: Peer[]; skipped: SkippedNode[] } {
  const peers: Peer[] = [];
  const skipped: SkippedNode[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name ?? "";
    if (name === "" || name === selfName) continue;
    const podCIDR = n.spec?.podCIDR;
    const data = backendData(n);
    const mac = data.vtepMAC;
    const ip = publicIP(n);
    if (!podCIDR) skipped.push({ name, reason: "no spec.podCIDR assigned yet" });
    else if (!mac) skipped.push({ name, reason: `no VtepMAC in ${ANNOTATION_BACKEND_DATA} yet` });
    else if (!ip) skipped.push({ name, reason: "no public IP annotation and no InternalIP" });
    else
      peers.push({
        name,
        podCIDR,
        vtepMAC: mac,
        publicIP: ip,
        ...(data.directRouting ? { directRouting: true } : {}),
      });
  }
  peers.sort((a, b) => a.name.localeCompare(b.name));
  return { peers, skipped };
}

/** True when `annotations` already holds every wanted key with the wanted value. */
export function annotationsCurrent(
  have: Readonly<Record<string, string>> | undefined,
  want: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}
