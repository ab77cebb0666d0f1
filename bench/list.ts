/**
 * bench/list: one list of N objects (default 10,000 ConfigMaps, the API target's size) as
 * kubectl sees it: time from the request to the last byte received over HTTPS, JSON and Table,
 * against the two floors measured in the same run on the same client:
 *   1. the list's SELECT on the hub's own file (raw better-sqlite3, stepped as the hub does);
 *   2. a bare node:https server sending the hub's JSON list body (the TLS + socket floor), with
 *      all its writes at once (bench/api's floor) and paced as the hub's list writer paces.
 *
 *   npm run bench -- list [--objects 10000] [--runs 9] [--only json|table] [--profile DIR] [--tag NAME]
 *
 * The same measurement is part of bench/api (after its create phase); this one does only
 * lists, so that the mechanism can be measured and profiled in seconds: `--profile DIR`
 * starts the hub with `--cpu-prof` and writes its profile into DIR when the hub exits
 * (open it in Chrome DevTools, or summarize with `node scripts/cpuprofile-top.mjs FILE`).
 *
 * Also reported: the hub's CPU per list (from /proc, 10 ms ticks, summed over the runs) and
 * this client's, so that a client slower than the hub shows up instead of inflating the
 * figure silently. JSON and Table runs alternate, and so do hub and floor runs, so that all
 * meet the same machine load on a shared box.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad, type Target } from "./lib/https-load.js";
import { freePort, HubProcess } from "./lib/hub-process.js";
import { bareBodyServer, type ListTiming, listGet, rawListSelect } from "./lib/list-floor.js";
import { cpuMs, median, writeResult } from "./lib/stats.js";

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const strArg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const OBJECTS = arg("objects", 10_000);
const RUNS = Math.max(1, arg("runs", 9));
const PROFILE = strArg("profile");
const TAG = strArg("tag");
/** one kind of list only (a profile of one) */
const ONLY = strArg("only");
const PAYLOAD = "x".repeat(900);
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const PATH = "/api/v1/namespaces/bench/configmaps";

/** user and system CPU (ms) of a process so far: system time is the kernel's share (socket writes) */
function cpuSplit(pid: number): { user: number; system: number } {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return { user: Number(f[11]) * 10, system: Number(f[12]) * 10 };
}

function summary(xs: ListTiming[]) {
  return {
    medianTotalMs: median(xs.map((x) => x.totalMs)),
    minTotalMs: Math.min(...xs.map((x) => x.totalMs)),
    medianFirstByteMs: median(xs.map((x) => x.firstByteMs)),
    bytes: xs[0]?.bytes,
    runsMs: xs.map((x) => Math.round(x.totalMs * 10) / 10),
  };
}

async function main(): Promise<void> {
  const loadavgAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "ek-bench-list-"));
  const hub = new HubProcess({
    dir,
    httpsPort: await freePort(),
    mqttPort: await freePort(),
    ...(PROFILE ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${PROFILE}`] } : {}),
  });
  await hub.start();
  try {
    const t: Target = { url: hub.url, ca: hub.ca, token: hub.token };
    await runLoad(t, 1, 1, () => ({
      method: "POST",
      path: "/api/v1/namespaces",
      body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } }),
    }));
    const created = await runLoad(t, OBJECTS, 32, (i) => ({
      method: "POST",
      path: PATH,
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${i}` },
        data: { p: PAYLOAD },
      }),
    }));
    if (created.errors > 0) throw new Error(`${created.errors} creates failed`);

    // the floor's body is the hub's own reply
    const body: Buffer[] = [];
    await listGet(t, PATH, "application/json", body);
    const bodyFile = join(dir, "list-body.json");
    writeFileSync(bodyFile, Buffer.concat(body));
    const bare = await bareBodyServer(join(dir, "tls"), await freePort(), bodyFile);
    const paced = await bareBodyServer(join(dir, "tls"), await freePort(), bodyFile, true);

    // warm-up: the hub optimizes its hot code only after a few lists (heap-tuning.ts). The
    // first Table list prints every row (none kept yet: table-rows.ts); reported on its own
    const cold: ListTiming[] = [];
    let coldHubCpuMs = 0;
    for (let i = 0; i < 3; i++) {
      if (ONLY !== "table") await listGet(t, PATH);
      const h0 = cpuMs(hub.pid);
      if (ONLY !== "json") cold.push(await listGet(t, PATH, TABLE));
      if (i === 0) coldHubCpuMs = cpuMs(hub.pid) - h0;
    }
    const json: ListTiming[] = [];
    const table: ListTiming[] = [];
    const floor: ListTiming[] = [];
    const floorPaced: ListTiming[] = [];
    const cpu = { hubJson: 0, hubTable: 0, clientJson: 0, clientTable: 0, hubSystem: 0 };
    const sys0 = cpuSplit(hub.pid).system;
    const selfCpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    for (let i = 0; i < RUNS; i++) {
      let h0 = cpuMs(hub.pid);
      let c0 = selfCpu();
      if (ONLY !== "table") json.push(await listGet(t, PATH));
      cpu.hubJson += cpuMs(hub.pid) - h0;
      cpu.clientJson += selfCpu() - c0;
      h0 = cpuMs(hub.pid);
      c0 = selfCpu();
      if (ONLY !== "json") table.push(await listGet(t, PATH, TABLE));
      cpu.hubTable += cpuMs(hub.pid) - h0;
      cpu.clientTable += selfCpu() - c0;
      floor.push(await listGet({ url: bare.url, ca: t.ca }, "/"));
      floorPaced.push(await listGet({ url: paced.url, ca: t.ca }, "/"));
    }
    cpu.hubSystem = cpuSplit(hub.pid).system - sys0;
    await bare.stop();
    await paced.stop();
    const select = rawListSelect(join(dir, "state.db"), "/registry/core/configmaps/bench/");

    const result = {
      machine: { node: process.version, loadavgAtStart, loadavgAtEnd: loadavg() },
      args: { objects: OBJECTS, runs: RUNS, only: ONLY ?? "both", profile: Boolean(PROFILE) },
      list: {
        json: {
          ...summary(json),
          hubCpuMsPerList: cpu.hubJson / RUNS,
          clientCpuMsPerList: cpu.clientJson / RUNS,
        },
        table: {
          ...summary(table),
          hubCpuMsPerList: cpu.hubTable / RUNS,
          clientCpuMsPerList: cpu.clientTable / RUNS,
        },
        /** the first Table list: every row printed (parsed and encoded), none kept yet */
        tableFirst: { totalMs: cold[0]?.totalMs, hubCpuMs: coldHubCpuMs },
      },
      /** the kernel's share of the hub's CPU over all measured lists (socket writes) */
      hubSystemCpuMsPerList: cpu.hubSystem / (json.length + table.length),
      floor: {
        sqliteSelectMedianMs: median(select.ms),
        sqliteRows: select.rows,
        bareHttps: summary(floor),
        bareHttpsPaced: summary(floorPaced),
      },
      targets: { listMs: 60, firstByteMs: 5 },
    };
    const file = writeResult("list", result, TAG);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${file}`);
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
