/**
 * The namespace variant of the black-hole fault tests: a hub bound to a host address and an
 * agent child in its own network namespace made by the test, joined over a veth pair, with a
 * switchable black hole — iptables DROP rules inside that namespace, so the kernel loses the
 * packets silently (no RST; a connect() neither completes nor fails).
 * The rig is removed when the calling test ends, and with it the namespace, the veth and the
 * reserved underlay slice.
 */
import { onTestFinished } from "vitest";
import { hostExec, netnsExec } from "../../src/cni/exec.js";
import { FaultRig } from "./fault-rig.js";
import { NetnsLab } from "./netns-lab.js";
import { reserveUnderlaySlice } from "./underlay-slice.js";

export interface NamespacedLink {
  rig: FaultRig;
  /** the agent's namespace (pass to rig.childAgent) */
  ns: string;
  hubIp: string;
  /** the namespace's address, reachable from the host over the veth (nothing listens there) */
  agentIp: string;
  /** on: DROP everything between the namespace and the hub; off: remove those rules again */
  blackHole(on: boolean): Promise<void>;
}

/** `vethPrefix` + the lab's tag names the host end of the veth (unique per test). */
export async function namespacedLink(vethPrefix: string): Promise<NamespacedLink> {
  const lab = new NetnsLab();
  const host = hostExec();
  const veth = `${vethPrefix}${lab.tag}`;
  // the hub's end is a host address: from a reserved slice, never one a dev cluster uses
  const slice = reserveUnderlaySlice();
  const hubIp = slice.ip(1);
  const agentIp = slice.ip(2);
  const rig = new FaultRig({ mqttBindAddress: hubIp, tlsSans: [hubIp] });
  onTestFinished(() => rig.cleanup());
  rig.defer(() => slice.release());
  rig.defer(() => lab.cleanup());
  const ns = await lab.addNamespace("agent");
  rig.defer(() => host("ip", ["link", "del", veth]).catch(() => undefined));
  await host("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await host("ip", ["addr", "add", `${hubIp}/27`, "dev", veth]);
  await host("ip", ["link", "set", veth, "up"]);
  const inNs = netnsExec(lab.path(ns));
  await inNs("ip", ["addr", "add", `${agentIp}/27`, "dev", "eth0"]);
  await inNs("ip", ["link", "set", "eth0", "up"]);
  const drop = [
    ["INPUT", "-s", hubIp, "-j", "DROP"],
    ["OUTPUT", "-d", hubIp, "-j", "DROP"],
  ];
  return {
    rig,
    ns,
    hubIp,
    agentIp,
    blackHole: async (on) => {
      for (const r of drop) await inNs("iptables", ["-w", on ? "-A" : "-D", ...r]);
    },
  };
}
