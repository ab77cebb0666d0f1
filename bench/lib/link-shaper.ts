/**
 * A NIC's line rate on a dev-cluster underlay veth, for bench/net's second throughput figure.
 *
 * Design notes
 * - The rig's underlay is a veth pair: no line rate, so one TCP flow is bound by CPU and the
 *   overlay/underlay ratio measures how much more kernel work the overlay does per segment
 *   (vxlan-floor.ts). A device on a fleet sends through a NIC (a Pi 4: 1 Gbit/s, a Pi 3:
 *   100 Mbit/s), where the line is the limit and the overlay's cost is its bytes: 50 of every
 *   1,500 (VXLAN, UDP, IP and inner Ethernet headers) plus what the CPU cannot keep up with.
 * - A token bucket (`tc qdisc … tbf`, present here; netem and fq are not) on the egress of both
 *   nodes' eth0 gives the underlay that line rate. Underlay and overlay packets leave through the
 *   same eth0, so both are measured through the same "wire", as on a device.
 * - burst 256 KiB so a 64 KiB GSO segment passes whole (a NIC segments in hardware; a smaller
 *   burst would make tbf segment in software on one side of the comparison only in effect);
 *   latency 10 ms bounds the queue.
 * - Removed by the same device name it was added to (the namespaces belong to the dev cluster
 *   the bench started).
 */
import { execFileSync } from "node:child_process";

/** Shapes `dev`'s egress in `netns` to `rate` (tc syntax, e.g. "1gbit"); returns the undo. */
export function shapeEgress(netns: string, dev: string, rate: string): () => void {
  if (!/^\d+(\.\d+)?(bit|kbit|mbit|gbit)$/.test(rate)) {
    throw new Error(`link rate "${rate}" is not a tc rate like 100mbit or 1gbit`);
  }
  const tc = (args: string[]) =>
    execFileSync("nsenter", [`--net=${netns}`, "tc", ...args], { stdio: "pipe" });
  tc(["qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "10ms"]);
  return () => {
    tc(["qdisc", "del", "dev", dev, "root"]);
  };
}
