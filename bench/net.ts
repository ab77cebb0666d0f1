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
 * Results: bench/results/net-<date>.json. Needs root and Docker (like the integration tests).
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DevClusterFixture, type PodInfo } from "../test/helpers/dev-cluster-fixture.js";
import { median, percentile, writeResult } from "./lib/stats.js";

const MIB = 1024 * 1024;
const BYTES = 512 * MIB;
const ROUNDS = 3;

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

/**
 * One transfer of BYTES from netns `fromNs` to `toIp:port` in `toNs` with a node TCP sender and
 * receiver under nsenter (large writes: the tool is not the bottleneck); resolves with MiB/s.
 */
async function transfer(fromNs: string, toNs: string, toIp: string, port: number): Promise<number> {
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
    const overlay: number[] = [];
    const underlay: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      underlay.push(await transfer(n1, n2, c.node("node2").ip, 9100 + i));
      overlay.push(await transfer(podFrom, podTo, rx.ip, 9200 + i));
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
        overlayMiBps: overlay.map((x) => Math.round(x)),
        underlayMiBps: underlay.map((x) => Math.round(x)),
        ratio: Number((median(overlay) / median(underlay)).toFixed(3)),
        target: 0.8,
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
