/**
 * bench/services: the cluster DNS server's query rate, the time to program 1,000 services with
 * 3 endpoints each into nftables, and HTTP latency through a ClusterIP versus straight to the
 * pod IP. Network parts run in namespaces this bench creates (root only) and removes.
 * Targets (2-core machine): ≥ 10,000 DNS queries/s, 1,000 services < 2 s, latency ratio ≤ 1.1.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import dns2 from "dns2";
import { hostExec, netnsExec } from "../src/cni/exec.js";
import { ClusterDns } from "../src/dns/cluster-dns.js";
import { NftProxier } from "../src/lb/nft-proxier.js";
import type { ServiceState } from "../src/lb/types.js";
import { httpGet, LbLab } from "../test/helpers/lb-lab.js";
import { service, slice } from "../test/helpers/services-fixtures.js";

const DNS_SECONDS = Number(process.env.BENCH_DNS_SECONDS ?? 3);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);

function manyServices(n: number): ServiceState {
  const services = [];
  const slices = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    services.push(service(name, `10.43.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`));
    slices.push(
      slice(
        name,
        [0, 1, 2].map((k) => ({ ip: `10.42.${k + 1}.${(i % 250) + 2}`, node: `n${k + 1}` })),
        [{ name: "http", port: 8080 }],
      ),
    );
  }
  return {
    services,
    endpointSlices: slices,
    nodeName: "n1",
    nodeIPs: ["198.51.100.2"],
    clusterCIDR: "10.42.0.0/16",
  };
}

// The load generator runs in a worker so the server's event loop is the one being measured.
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const dgram = require("node:dgram");
const sock = dgram.createSocket("udp4");
const { port, seconds, queries } = workerData;
let sent = 0, got = 0, id = 0;
const end = Date.now() + seconds * 1000;
function send() {
  const q = Buffer.from(queries[id % queries.length]);
  q.writeUInt16BE(id++ & 0xffff, 0);
  sent++;
  sock.send(q, port, "127.0.0.1");
}
sock.on("message", () => { got++; if (Date.now() < end) send(); else if (got + 64 >= sent) finish(); });
function finish() { sock.close(); parentPort.postMessage({ sent, got }); }
sock.bind(0, () => { for (let i = 0; i < 64; i++) send(); setTimeout(finish, seconds * 1000 + 2000).unref(); });
`;

async function dnsBench(): Promise<{ qps: number; answered: number }> {
  const st = manyServices(1000);
  const server = new ClusterDns(
    { address: "127.0.0.1", port: 0, upstreams: [], tcp: false },
    { source: { services: () => st.services, endpointSlices: () => st.endpointSlices, revision: () => 1 } },
  );
  await server.start();
  const queries = [0, 1, 2, 3].map((i) => {
    const p = new dns2.Packet();
    p.questions.push({
      name: `svc-${i * 7}.default.svc.cluster.local`,
      type: dns2.Packet.TYPE.A,
      class: 1,
    } as never);
    return p.toBuffer();
  });
  const t0 = Date.now();
  const result = await new Promise<{ sent: number; got: number }>((resolve, reject) => {
    const w = new Worker(CLIENT, {
      eval: true,
      workerData: { port: server.ports().udp, seconds: DNS_SECONDS, queries },
    });
    w.once("message", resolve);
    w.once("error", reject);
  });
  const secs = (Date.now() - t0) / 1000;
  await server.stop();
  return { qps: Math.round(result.got / secs), answered: result.got };
}

async function programBench(): Promise<{ fullMs: number; incrementalMs: number; services: number }> {
  const name = `ekt-bench-${process.pid}`;
  const host = hostExec();
  await host("ip", ["netns", "add", name]);
  try {
    const exec = netnsExec(`/run/netns/${name}`);
    const proxier = new NftProxier({ exec });
    await proxier.start();
    const st = manyServices(SERVICES);
    let t = performance.now();
    await proxier.sync(st);
    const fullMs = performance.now() - t;
    const changed = { ...st, endpointSlices: [...st.endpointSlices] };
    changed.endpointSlices[5] = slice("svc-5", [{ ip: "10.42.9.9" }], [{ name: "http", port: 8080 }]);
    t = performance.now();
    await proxier.sync(changed);
    const incrementalMs = performance.now() - t;
    return { fullMs: Math.round(fullMs), incrementalMs: Math.round(incrementalMs), services: SERVICES };
  } finally {
    await host("ip", ["netns", "del", name]);
  }
}

const LOAD = `
const http = require("node:http");
const [url, n, keep] = [process.argv[1], Number(process.argv[2]), process.argv[3] === "keep"];
const agent = new http.Agent({ keepAlive: keep, maxSockets: 1 });
const lat = [];
(async () => {
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await new Promise((res, rej) => http.get(url, { agent }, (r) => { r.resume(); r.on("end", res); }).on("error", rej));
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ p50: lat[Math.floor(n / 2)], p90: lat[Math.floor(n * 0.9)] }));
  agent.destroy();
})();
`;

interface Latency {
  clusterIpP50Ms: number;
  directP50Ms: number;
  ratio: number;
}

async function latencyBench(): Promise<{ newConnection: Latency; keepAlive: Latency }> {
  const lab = new LbLab();
  const servers: ReturnType<typeof spawn>[] = [];
  try {
    await lab.setup(200);
    const pod = await lab.addPod("bp", "bench");
    // busybox httpd forks per connection and closes it: a Node server keeps the noise down and
    // allows keep-alive. Killed by pid below.
    const srv = spawn("nsenter", [
      `--net=/run/netns/${pod.ns}`,
      "--",
      process.execPath,
      "-e",
      'require("node:http").createServer((q, s) => s.end("ok")).listen(81)',
    ]);
    servers.push(srv);
    for (let i = 0; ; i++) {
      const up = await httpGet(pod.exec, "http://127.0.0.1:81/", 1).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (i > 100) throw new Error("the bench's HTTP server in the pod did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
    await lab.client.exec("ip", ["route", "add", "10.42.0.0/16", "via", lab.node.ip]);
    const proxier = new NftProxier({ exec: lab.node.exec });
    await proxier.start();
    await proxier.sync({
      services: [service("b", "10.43.99.1")],
      endpointSlices: [slice("b", [{ ip: pod.ip, node: "node1" }], [{ name: "http", port: 81 }])],
      nodeName: "node1",
      nodeIPs: [lab.node.ip],
      clusterCIDR: "10.42.0.0/16",
    });
    const run = (url: string, keep: boolean) =>
      new Promise<{ p50: number }>((resolve, reject) => {
        const args = [
          `--net=/run/netns/${lab.client.ns}`,
          "--",
          process.execPath,
          "-e",
          LOAD,
          url,
          String(REQUESTS),
        ];
        const c = spawn("nsenter", keep ? [...args, "keep"] : args);
        let out = "";
        c.stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        c.on("exit", (code) =>
          code === 0
            ? resolve(JSON.parse(out) as { p50: number })
            : reject(new Error(`load client exit ${code}`)),
        );
      });
    const measure = async (keep: boolean): Promise<Latency> => {
      // alternate the two paths so machine noise hits both alike; take the median of 3 runs
      const direct: number[] = [];
      const viaSvc: number[] = [];
      for (let i = 0; i < 3; i++) {
        direct.push((await run(`http://${pod.ip}:81/`, keep)).p50);
        viaSvc.push((await run("http://10.43.99.1/", keep)).p50);
      }
      const med = (a: number[]) => a.sort((x, y) => x - y)[1] ?? 0;
      const d = med(direct);
      const s = med(viaSvc);
      return { clusterIpP50Ms: +s.toFixed(3), directP50Ms: +d.toFixed(3), ratio: +(s / d).toFixed(3) };
    };
    return { newConnection: await measure(false), keepAlive: await measure(true) };
  } finally {
    for (const srv of servers)
      if (srv.pid !== undefined && srv.exitCode === null) process.kill(srv.pid, "SIGTERM");
    await lab.cleanup();
  }
}

async function main(): Promise<void> {
  const dns = await dnsBench();
  console.log(`DNS: ${dns.qps} queries/s (target ≥ 10000)`);
  const isRoot = process.getuid?.() === 0;
  const program = isRoot ? await programBench() : undefined;
  if (program)
    console.log(
      `nft: ${program.services} services × 3 endpoints in ${program.fullMs} ms (target < 2000), one endpoint change ${program.incrementalMs} ms`,
    );
  const latency = isRoot ? await latencyBench() : undefined;
  for (const [k, l] of Object.entries(latency ?? {})) {
    console.log(
      `latency p50 (${k}): ClusterIP ${l.clusterIpP50Ms} ms, direct ${l.directP50Ms} ms, ratio ${l.ratio} (target ≤ 1.1)`,
    );
  }
  const result = {
    date: new Date().toISOString(),
    dns: { ...dns, targetQps: 10000 },
    program: program ? { ...program, targetMs: 2000 } : "skipped: needs root",
    latency: latency ? { ...latency, targetRatio: 1.1, requestsPerRun: REQUESTS } : "skipped: needs root",
  };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/services-${result.date.slice(0, 10)}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${file}`);
}

await main();
