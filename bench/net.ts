/**
 * bench/net (`npm run bench -- net`): the pod network on a real 2-node dev cluster, measured
 * in one run so the baseline shares the machine's state:
 *   1. TCP throughput pod → pod across the overlay (veth, cni0, flannel.1 VXLAN, underlay) vs
 *      node → node over the underlay alone; ratio target ≥ 0.8. Both ends are small node TCP
 *      programs under nsenter (pods: their sandbox's netns), so only the path differs; busybox
 *      nc's small buffers made the tool, not the path, the bottleneck.
 *   2. Time to wire a pod (the agent's PodNetwork hook: veth, IPAM, addresses, routes), from
 *      the agents' debug log; target < 150 ms.
 *   3. Time from a new node's overlay annotations reaching the hub until every peer has its
 *      route, ARP and FDB entries; target < 1 s.
 * Each transfer also records the TCP counters of both namespaces (/proc/net/netstat, /proc/net/snmp):
 * segments queued out of order at the receiver and the sender's retransmissions and D-SACKs
 * (spurious retransmissions). Reordering costs a single flow more than any per-byte CPU on these
 * paths (docs/overlay.md, flow steering), and the counters show it whatever the machine's load.
 * The underlay is measured twice per round: as the rig leaves it (veths without RPS: the figure
 * the ratio target is computed against), and with RPS on both nodes' eth0, the software form of
 * the receive-side hashing a real NIC does (RSS), so one flow stays on one CPU there too.
 * Results: bench/results/net-<date>.json. Needs root and Docker (like the integration tests).
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { inFreshSysfs, rpsMask } from "../src/cni/flow-steering.js";
import { DevClusterFixture, type PodInfo } from "../test/helpers/dev-cluster-fixture.js";
import { median, percentile, writeResult } from "./lib/stats.js";

const MIB = 1024 * 1024;
const BYTES = 1024 * MIB;
const ROUNDS = 5;

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function listening(netns: string, port: number): boolean {
  const out = execFileSync("nsenter", [`--net=${netns}`, "ss", "-ltnH"], { encoding: "utf8" });
  return out.includes(`:${port} `);
}

/** Receiver: counts one connection's bytes, prints "bytes seconds" from first byte to end. */
const RX = `const s=require("net").createServer(c=>{let n=0,t0=0;c.on("data",d=>{if(!t0)t0=process.hrtime.bigint();n+=d.length});c.on("end",()=>{console.log(n,Number(process.hrtime.bigint()-t0)/1e9);s.close()})});s.listen(+process.argv[1],"0.0.0.0")`;
/** Sender: writes argv[3] bytes in 1 MiB chunks to argv[1]:argv[2]. */
const TX = `const c=require("net").connect(+process.argv[2],process.argv[1],()=>{let left=+process.argv[3];const b=Buffer.alloc(1<<20);const w=()=>{while(left>0){left-=b.length;if(!c.write(b)){c.once("drain",w);return}}c.end()};w()})`;

/** TCP counters of one network namespace (TcpExt from /proc/net/netstat, Tcp from /proc/net/snmp). */
function tcpCounters(netns: string): Map<string, number> {
  const text = execFileSync("nsenter", [`--net=${netns}`, "cat", "/proc/net/netstat", "/proc/net/snmp"], {
    encoding: "utf8",
  });
  const out = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i += 1) {
    const head = lines[i]?.split(" ") ?? [];
    const vals = lines[i + 1]?.split(" ") ?? [];
    if (head[0] !== vals[0] || !head[0]?.endsWith(":") || Number.isNaN(Number(vals[1]))) continue;
    for (let k = 1; k < head.length; k++) out.set(`${head[0]}${head[k]}`, Number(vals[k]));
    i += 1;
  }
  return out;
}

export interface TransferStats {
  mibps: number;
  /** segments the receiver queued out of order */
  rxOutOfOrder: number;
  /** segments the sender retransmitted, and D-SACKs it got back (retransmissions that were not needed) */
  txRetrans: number;
  txDsacks: number;
}

/** RPS on `dev` in `netns` (mask "0" turns it off), through a sysfs mounted in that namespace. */
function setRps(netns: string, dev: string, mask: string): void {
  execFileSync("nsenter", [
    `--net=${netns}`,
    "unshare",
    ...inFreshSysfs('echo "$1" > "/sys/class/net/$2/queues/rx-0/rps_cpus"', [mask, dev]),
  ]);
}

/**
 * One transfer of BYTES from netns `fromNs` to `toIp:port` in `toNs` with a node TCP sender and
 * receiver under nsenter (large writes: the tool is not the bottleneck); resolves with MiB/s.
 */
async function transfer(fromNs: string, toNs: string, toIp: string, port: number): Promise<TransferStats> {
  const tx0 = tcpCounters(fromNs);
  const rx0 = tcpCounters(toNs);
  const mibps = await transferOnce(fromNs, toNs, toIp, port);
  const tx1 = tcpCounters(fromNs);
  const rx1 = tcpCounters(toNs);
  const d = (a: Map<string, number>, b: Map<string, number>, k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  return {
    mibps,
    rxOutOfOrder: d(rx0, rx1, "TcpExt:TCPOFOQueue"),
    txRetrans: d(tx0, tx1, "Tcp:RetransSegs"),
    txDsacks: d(tx0, tx1, "TcpExt:TCPDSACKRecv"),
  };
}

async function transferOnce(fromNs: string, toNs: string, toIp: string, port: number): Promise<number> {
  const rx = spawn("nsenter", [`--net=${toNs}`, process.execPath, "-e", RX, String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  rx.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const done = new Promise<void>((r) => rx.on("close", () => r()));
  try {
    await until("the receiver to listen", () => (listening(toNs, port) ? true : undefined), 10_000);
    execFileSync("nsenter", [
      `--net=${fromNs}`,
      process.execPath,
      "-e",
      TX,
      toIp,
      String(port),
      String(BYTES),
    ]);
    await done;
    const [bytes, seconds] = out.trim().split(" ").map(Number);
    if (bytes !== BYTES || !seconds) throw new Error(`received ${out.trim()} (want ${BYTES} bytes)`);
    return BYTES / MIB / seconds;
  } finally {
    if (rx.exitCode === null) rx.kill();
  }
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
  const f = new DevClusterFixture({ agentArgs: ["--log-level", "debug"] });
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
    for (let i = 0; i < ROUNDS; i++) {
      underlay.push(await transfer(n1, n2, c.node("node2").ip, 9100 + i));
      overlay.push(await transfer(podFrom, podTo, rx.ip, 9200 + i));
      for (const ns of [n1, n2]) setRps(ns, "eth0", mask);
      try {
        underlaySteered.push(await transfer(n1, n2, c.node("node2").ip, 9300 + i));
      } finally {
        for (const ns of [n1, n2]) setRps(ns, "eth0", "0");
      }
    }
    const rate = (xs: TransferStats[]) => xs.map((x) => x.mibps);
    const counters = (xs: TransferStats[]) => ({
      rxOutOfOrder: xs.map((x) => x.rxOutOfOrder),
      txRetrans: xs.map((x) => x.txRetrans),
      txDsacks: xs.map((x) => x.txDsacks),
    });

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
          const routes = f.overlay(peer).routes;
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
        overlayMiBps: rate(overlay).map((x) => Math.round(x)),
        underlayMiBps: rate(underlay).map((x) => Math.round(x)),
        ratio: Number((median(rate(overlay)) / median(rate(underlay))).toFixed(3)),
        target: 0.8,
        underlaySteeredMiBps: rate(underlaySteered).map((x) => Math.round(x)),
        ratioToSteeredUnderlay: Number((median(rate(overlay)) / median(rate(underlaySteered))).toFixed(3)),
        tcp: {
          overlay: counters(overlay),
          underlay: counters(underlay),
          underlaySteered: counters(underlaySteered),
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
