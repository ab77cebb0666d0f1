/**
 * bench/net (`npm run bench -- net`): the pod network on a real 2-node dev cluster, measured
 * in one run so the baselines share the machine's state:
 *   1. TCP throughput pod → pod across the overlay (veth, cni0, flannel.1 VXLAN, underlay) vs
 *      node → node over the underlay alone; ratio target ≥ 0.8 (tcp-transfer.ts: the same small
 *      node programs at both ends of every path, so only the path differs). Three more figures
 *      say what the ratio is made of:
 *      - the underlay again with RPS on both nodes' eth0, the software form of a NIC's RSS;
 *      - the bare datapath: the same devices and entries built with `ip` alone in namespaces of
 *        its own (vxlan-floor.ts), whose ratio is what the kernel's VXLAN path gives on this
 *        machine without edgekube;
 *      - at a NIC's line rate (`--link-rate`, default 1gbit: a token bucket on both nodes' eth0,
 *        link-shaper.ts), where a device's link, not its CPU, is the limit.
 *      The default TCP congestion control of the namespaces is recorded: with BBR (this host's
 *      default) one flow is paced below what the path can carry; docs/overlay.md.
 *   2. Time to wire a pod (the agent's PodNetwork hook: veth, IPAM, addresses, routes), from
 *      the agents' debug log; target < 150 ms.
 *   3. Time from a new node's overlay annotations reaching the hub until every peer has its
 *      route, ARP and FDB entries; target < 1 s.
 * `--direct-routing` runs the agents with flannel's DirectRouting (both nodes share a segment, so
 * pod traffic leaves VXLAN for a plain route over eth0); the bare datapath stays VXLAN.
 * Results: bench/results/net-<date>.json. Needs root and Docker (like the integration tests).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { inFreshSysfs, rpsMask } from "../src/cni/flow-steering.js";
import { DevClusterFixture, type PodInfo } from "../test/helpers/dev-cluster-fixture.js";
import { shapeEgress } from "./lib/link-shaper.js";
import { median, percentile, writeResult } from "./lib/stats.js";
import { congestionControl, MIB, summary, type TransferStats, transfer, until } from "./lib/tcp-transfer.js";
import { bareVxlanPath } from "./lib/vxlan-floor.js";

const BYTES = 1024 * MIB;
const ROUNDS = 5;
/** the line-rate figure: transfers are shorter (1 Gbit/s moves ≈ 119 MiB/s) */
const LINK_BYTES = 256 * MIB;
const LINK_ROUNDS = 3;

function strArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : dflt;
}
/** --link-rate RATE: the line rate of the second throughput figure (tc syntax; default 1gbit, a Pi 4's NIC) */
const LINK_RATE = strArg("link-rate", "1gbit");
/**
 * --direct-routing: the agents run with `--flannel-direct-routing` (flannel's DirectRouting), so
 * pod traffic between the two nodes — on one segment — takes a plain route over eth0 instead of
 * VXLAN. The result records the mode and the packets flannel.1 sent during the pod transfers.
 */
const DIRECT = process.argv.includes("--direct-routing");

/** packets `dev` has sent in `netns` */
function txPackets(netns: string, dev: string): number {
  const out = execFileSync("ip", ["-n", netns, "-json", "-s", "link", "show", "dev", dev], {
    encoding: "utf8",
  });
  return Number((JSON.parse(out) as Array<{ stats64: { tx: { packets: number } } }>)[0]?.stats64.tx.packets);
}

/** RPS on `dev` in `netns` (mask "0" turns it off), through a sysfs mounted in that namespace. */
function setRps(netns: string, dev: string, mask: string): void {
  execFileSync("nsenter", [
    `--net=${netns}`,
    "unshare",
    ...inFreshSysfs('echo "$1" > "/sys/class/net/$2/queues/rx-0/rps_cpus"', [mask, dev]),
  ]);
}

function sandboxNetns(f: DevClusterFixture, p: PodInfo): string {
  const n = f.cluster.node(p.node);
  const pid = f.cluster
    .docker(n, [
      "inspect",
      "-f",
      "{{.State.Pid}}",
      ...f.cluster
        .docker(n, [
          "ps",
          "-q",
          "--filter",
          `label=io.kubernetes.pod.uid=${p.uid}`,
          "--filter",
          "label=edgekube.io/role=sandbox",
        ])
        .trim()
        .split("\n"),
    ])
    .trim();
  return `/proc/${pid}/ns/net`;
}

function wiringTimes(f: DevClusterFixture, node: string): number[] {
  const log = readFileSync(join(f.cluster.node(node).dir, "agent.log"), "utf8");
  const ms: number[] = [];
  for (const line of log.split("\n")) {
    if (!line.includes('"pod wired"')) continue;
    try {
      const o = JSON.parse(line) as { ms?: number };
      if (typeof o.ms === "number") ms.push(o.ms);
    } catch {
      // not a JSON log line
    }
  }
  return ms;
}

async function main(): Promise<void> {
  const f = new DevClusterFixture({
    agentArgs: ["--log-level", "debug", ...(DIRECT ? ["--flannel-direct-routing"] : [])],
  });
  try {
    await f.up(2);
    const c = f.cluster;
    const running = (name: string) => until(name, () => f.runningPod(name));

    // 2. wiring: 10 pods on node1, one after the other (no contention between wirings)
    const pods: PodInfo[] = [];
    for (let i = 0; i < 10; i++) {
      await f.createPod(`w${i}`, "node1", "sleep 1000000");
      pods.push(await running(`w${i}`));
    }
    const wire = wiringTimes(f, "node1").sort((a, b) => a - b);

    // 1. throughput
    await f.createPod("rx", "node2", "sleep 1000000");
    const rx = await running("rx");
    const [tx] = pods;
    if (!tx) throw new Error("no pod");
    const podFrom = sandboxNetns(f, tx);
    const podTo = sandboxNetns(f, rx);
    const n1 = `/run/netns/${c.node("node1").netns}`;
    const n2 = `/run/netns/${c.node("node2").netns}`;
    const overlay: TransferStats[] = [];
    const underlay: TransferStats[] = [];
    const underlaySteered: TransferStats[] = [];
    const mask = rpsMask(availableParallelism()) ?? "0";
    const vxlanTxBefore = txPackets(c.node("node1").netns, "flannel.1");
    for (let i = 0; i < ROUNDS; i++) {
      underlay.push(await transfer(n1, n2, c.node("node2").ip, 9100 + i, BYTES));
      overlay.push(await transfer(podFrom, podTo, rx.ip, 9200 + i, BYTES));
      for (const ns of [n1, n2]) setRps(ns, "eth0", mask);
      try {
        underlaySteered.push(await transfer(n1, n2, c.node("node2").ip, 9300 + i, BYTES));
      } finally {
        for (const ns of [n1, n2]) setRps(ns, "eth0", "0");
      }
    }
    const vxlanTxPackets = txPackets(c.node("node1").netns, "flannel.1") - vxlanTxBefore;
    const rate = (xs: TransferStats[]) => xs.map((x) => x.mibps);
    const ratio = (over: TransferStats[], under: TransferStats[]) =>
      Number((median(rate(over)) / median(rate(under))).toFixed(3));

    // 1b. the floor: the same datapath built with `ip` alone, no edgekube (vxlan-floor.ts)
    const bare = await bareVxlanPath();
    const bareOverlay: TransferStats[] = [];
    const bareUnderlay: TransferStats[] = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        bareUnderlay.push(await transfer(bare.node1, bare.node2, bare.node2Ip, 9400 + i, BYTES));
        bareOverlay.push(await transfer(bare.pod1, bare.pod2, bare.pod2Ip, 9500 + i, BYTES));
      }
    } finally {
      await bare.cleanup();
    }

    // 1c. at a NIC's line rate on both nodes' eth0 (link-shaper.ts)
    const linkOverlay: TransferStats[] = [];
    const linkUnderlay: TransferStats[] = [];
    const undo = [n1, n2].map((ns) => shapeEgress(ns, "eth0", LINK_RATE));
    try {
      for (let i = 0; i < LINK_ROUNDS; i++) {
        linkUnderlay.push(await transfer(n1, n2, c.node("node2").ip, 9600 + i, LINK_BYTES));
        linkOverlay.push(await transfer(podFrom, podTo, rx.ip, 9700 + i, LINK_BYTES));
      }
    } finally {
      for (const u of undo) u();
    }

    // 3. a new node programmed on every peer
    const t = { annotated: 0, programmed: new Map<string, number>() };
    const watch = (async () => {
      const deadline = Date.now() + 90_000;
      let cidr: string | undefined;
      while (Date.now() < deadline && t.programmed.size < 2) {
        if (!cidr) {
          const node = await c
            .client()
            .get<{ spec?: { podCIDR?: string }; metadata: { annotations?: Record<string, string> } }>(
              "/api/v1/nodes/node3",
            )
            .catch(() => undefined);
          if (node?.spec?.podCIDR && node.metadata.annotations?.["flannel.alpha.coreos.com/backend-data"]) {
            cidr = node.spec.podCIDR;
            t.annotated = performance.now();
          }
        }
        for (const peer of ["node1", "node2"]) {
          if (t.programmed.has(peer)) continue;
          const o = f.overlay(peer);
          const routes = [...o.routes, ...o.direct.map((d) => d.split(" ")[0] ?? "")];
          if (cidr ? routes.includes(cidr) : routes.length > 1) t.programmed.set(peer, performance.now());
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await c.addNode(3);
    await watch;
    const peerMs = [...t.programmed.values()].map((x) => Math.max(0, x - t.annotated));

    const result = {
      date: new Date().toISOString(),
      machine: { cores: Number(execFileSync("nproc", { encoding: "utf8" }).trim()) },
      throughput: {
        bytesPerTransfer: BYTES,
        rounds: ROUNDS,
        directRouting: DIRECT,
        /** packets node1's flannel.1 sent during the transfers: ≈ 0 when routed directly */
        vxlanTxPackets,
        congestionControl: { pod: congestionControl(podFrom), node: congestionControl(n1) },
        overlay: summary(overlay),
        underlay: summary(underlay),
        ratio: ratio(overlay, underlay),
        target: 0.8,
        underlaySteered: summary(underlaySteered),
        ratioToSteeredUnderlay: ratio(overlay, underlaySteered),
        bareDatapath: {
          overlay: summary(bareOverlay),
          underlay: summary(bareUnderlay),
          ratio: ratio(bareOverlay, bareUnderlay),
        },
        atLineRate: {
          rate: LINK_RATE,
          bytesPerTransfer: LINK_BYTES,
          overlay: summary(linkOverlay),
          underlay: summary(linkUnderlay),
          ratio: ratio(linkOverlay, linkUnderlay),
        },
      },
      wirePodMs: {
        samples: wire.length,
        median: Math.round(median(wire)),
        p90: Math.round(percentile(wire, 90)),
        max: Math.round(wire.at(-1) ?? Number.NaN),
        target: 150,
      },
      newPeerProgrammedMs: {
        perPeer: peerMs.map((x) => Math.round(x)),
        max: Math.round(Math.max(...peerMs)),
        target: 1000,
      },
    };
    const file = writeResult("net", result);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
  } finally {
    await f.down();
  }
}

await main();
