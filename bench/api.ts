/**
 * bench/api: the hub's API server against the two physical limits measured in the same run.
 *   1. a bare node:https server echoing the same 1 KB JSON (the HTTP+TLS ceiling)
 *   2. raw better-sqlite3 kine-style inserts (the storage ceiling)
 * Then the hub (a separate process, as users run it): 10,000 creates at concurrency 32, lists
 * of 10,000 (JSON and Table, first byte and total), 100 watchers receiving every event while
 * creates run, idle RSS, and the database size under a churn of updates.
 *
 *   npm run bench -- api [--creates 10000] [--watchers 100] [--churn 120000] [--compaction-interval 5]
 *                        [--rounds 5] [--list-runs 7] [--tag NAME] [--hub-args "--max-semi-space 0"]
 *
 * Also in the same run, the floors and capacities the targets are compared with:
 * - list floor: the list's SELECT on the hub's own file (raw better-sqlite3, stepped as the hub
 *   does), and a bare node:https server sending the hub's list body in 64 KiB writes, timed to
 *   the last byte by the same client as the hub's lists (no client-side parse in either);
 * - CPU per request of the load generator (this process) against the server's, for the echo
 *   and the hub's creates: when the client costs as much as the server, the echo rate is the
 *   load generator's ceiling, not node:https's. The load generator is raw-https-load.ts
 *   (pre-encoded HTTP/1.1 on 32 keep-alive TLS sockets, one request in flight on each, as
 *   kubectl sends them): ≈0.03 ms of CPU per request against node:https's client's ≈0.15–0.2;
 * - the create floor (baseline.createFloor): the echo server's and the hub's CPU per request
 *   and the single-thread ceilings they imply (1 / CPU per request), beside the target's
 *   budget of 0.125 ms per create (8,000/s on one thread), so a reader sees how far the
 *   target is from what one Node thread does here;
 * - watch capacity: the watchers' live rate cannot exceed the create rate on a shared box, so
 *   100 watchers also replay a backlog (90% of the watch phase's creates, inside the retained
 *   window) from the log at their own speed, with the hub's CPU per replayed event (the figure
 *   to compare on a loaded machine: watchers starting from one resourceVersion share the
 *   replayed pages, see docs/store.md); and the create rate with 100 watchers attached
 *   against the create phase without them (the fan-out's cost).
 *
 * Lists are measured as bench/list measures them: the first JSON and Table list after the
 * creates (cold: the hub's list code is not optimized yet, heap-tuning.ts) are reported on
 * their own, two more of each warm up, then `--list-runs` of each alternate. They are sent
 * and timed from a client process of their own (bench/lib/list-client.ts), as kubectl is a
 * process of its own: timed from this process, they met the garbage collector of the load
 * generator that had just sent the creates (a mark-compact in nearly every list), not the hub.
 * A small GET opens that client's connection first, so no list includes a TLS handshake.
 *
 * The echo baseline and the hub's creates run alternately in `--rounds` slices of the
 * creates, so both meet the same machine load: their ratio is the figure to trust on a
 * shared machine, where absolute rates swing with other work.
 *
 * The churn phase rewrites 50 objects `--churn` times in total while the hub compacts every
 * `--compaction-interval` seconds (shorter than the hub's 30 s default so that a bench-length
 * churn spans several compactions; the mechanism is the same), sampling the database file
 * (main + WAL) as it goes: bounded means the size stops growing once the retained window of
 * 10,000 revisions is full, instead of growing with every update.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { echoServer, rawSqlite } from "./lib/api-floors.js";
import type { Target } from "./lib/https-load.js";
import { freePort, HubProcess } from "./lib/hub-process.js";
import { ListClient } from "./lib/list-client.js";
import { bareBodyServer, listGet as get, type ListTiming, rawListSelect } from "./lib/list-floor.js";
import { encodeRequest, encodeRequests, type RawRequest, runRawLoad } from "./lib/raw-https-load.js";
import { cpuMs, median, percentile, rssBytes, writeResult } from "./lib/stats.js";
import { watch } from "./lib/watch-counter.js";

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const CREATES = arg("creates", 10_000);
const WATCHERS = arg("watchers", 100);
const CHURN = arg("churn", 120_000);
const COMPACT_S = arg("compaction-interval", 5);
const ROUNDS = Math.max(1, arg("rounds", 5));
const LIST_RUNS = Math.max(1, arg("list-runs", 7));
const CONC = 32;
const TAG = (() => {
  const i = process.argv.indexOf("--tag");
  return i > 0 ? process.argv[i + 1] : undefined;
})();
const PAYLOAD = "x".repeat(900);
/** --hub-args "--max-semi-space 0": extra `edge-hub server` flags (A/B runs) */
const HUB_ARGS = (() => {
  const i = process.argv.indexOf("--hub-args");
  return i > 0 ? (process.argv[i + 1] ?? "").split(/\s+/).filter((a) => a !== "") : [];
})();

/**
 * The creates target against the physical floor, from CPU per request (which holds on a loaded
 * machine where rates do not): a single-threaded server cannot exceed 1 / (its CPU per request);
 * with its load generator on the same two cores, both together cannot exceed
 * 2 cores / (server + client CPU per request). The echo server's figures are what a bare
 * node:https thread does (TLS + HTTP + a 1 KB body), the hub's what it adds.
 */
function createFloor(
  cpu: { echoClient: number; echoServer: number; createClient: number; hub: number },
  n: number,
) {
  const perReq = (ms: number) => ms / n;
  const ceiling = (ms: number) => (ms > 0 ? 1000 / perReq(ms) : Number.POSITIVE_INFINITY);
  const target = 8000;
  return {
    echoServerCpuMsPerReq: perReq(cpu.echoServer),
    echoSingleThreadCeilingPerSec: ceiling(cpu.echoServer),
    echoTwoCoreCeilingPerSec: ceiling(cpu.echoServer + cpu.echoClient),
    hubCpuMsPerCreate: perReq(cpu.hub),
    hubSingleThreadCeilingPerSec: ceiling(cpu.hub),
    hubTwoCoreCeilingPerSec: ceiling(cpu.hub + cpu.createClient),
    // the hub's CPU budget per create at the target rate on one thread, and how many times
    // the echo server's own cost it is
    targetCreatesPerSec: target,
    targetHubCpuMsPerCreate: 1000 / target,
    hubToEchoCpuRatio: cpu.echoServer > 0 ? cpu.hub / cpu.echoServer : Number.NaN,
    targetToEchoCpuRatio: cpu.echoServer > 0 ? 1000 / target / perReq(cpu.echoServer) : Number.NaN,
  };
}

async function main(): Promise<void> {
  const loadavgAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "ek-bench-api-"));
  const hub = new HubProcess({
    dir,
    httpsPort: await freePort(),
    mqttPort: await freePort(),
    args: ["--compaction-interval", String(COMPACT_S), ...HUB_ARGS],
  });
  let lists: ListClient | undefined;
  try {
    await hub.start();
    // started now so that its start-up is over long before the lists it times
    lists = new ListClient({ url: hub.url, ca: hub.ca, token: hub.token });
    const ca = hub.ca;
    const url = hub.url;
    const t: Target = { url, ca, token: hub.token };
    await new Promise((r) => setTimeout(r, 1500));
    const idleRss = hub.rss();

    // baseline 1: a bare HTTPS echo of the same body with the same client. Echo and hub
    // creates alternate in ROUNDS slices, so that on a shared machine both see the same load
    // and their ratio means something even when the absolute rates do not.
    const ePort = await freePort();
    const echo = echoServer(join(dir, "tls"), ePort);
    await new Promise((r) => echo.once("message", r));
    const body = (i: number) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${i}` },
        data: { p: PAYLOAD },
      });
    const mkNs = (name: string) =>
      runRawLoad(
        t,
        encodeRequests(t, 1, () => ({
          method: "POST",
          path: "/api/v1/namespaces",
          body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }),
        })),
        1,
      );
    await mkNs("bench");
    const echoLat: number[] = [];
    const createLat: number[] = [];
    let echoSeconds = 0;
    let createSeconds = 0;
    let createErrors = 0;
    const cpu = { echoClient: 0, echoServer: 0, createClient: 0, hub: 0 };
    const selfCpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    for (let r = 0; r < ROUNDS; r++) {
      const from = Math.floor((r * CREATES) / ROUNDS);
      const n = Math.floor(((r + 1) * CREATES) / ROUNDS) - from;
      // requests are encoded before the clock and the CPU readings start
      const echoTarget = { url: `https://127.0.0.1:${ePort}`, ca };
      const echoReqs = encodeRequests(echoTarget, n, (i) => ({
        method: "POST",
        path: "/",
        body: body(from + i),
      }));
      const createReqs = encodeRequests(t, n, (i) => ({
        method: "POST",
        path: "/api/v1/namespaces/bench/configmaps",
        body: body(from + i),
      }));
      let c0 = selfCpuMs();
      let s0 = cpuMs(echo.pid!);
      const e = await runRawLoad(echoTarget, echoReqs, CONC, echoLat);
      cpu.echoClient += selfCpuMs() - c0;
      cpu.echoServer += cpuMs(echo.pid!) - s0;
      echoSeconds += e.seconds;
      c0 = selfCpuMs();
      s0 = cpuMs(hub.pid);
      const c = await runRawLoad(t, createReqs, CONC, createLat);
      cpu.createClient += selfCpuMs() - c0;
      cpu.hub += cpuMs(hub.pid) - s0;
      createSeconds += c.seconds;
      createErrors += c.errors;
    }
    echo.kill();
    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
    const echoRes = {
      opsPerSec: CREATES / echoSeconds,
      p50ms: percentile(sorted(echoLat), 50),
      p99ms: percentile(sorted(echoLat), 99),
    };
    const creates = {
      ops: CREATES,
      seconds: createSeconds,
      opsPerSec: CREATES / createSeconds,
      p50ms: percentile(sorted(createLat), 50),
      p99ms: percentile(sorted(createLat), 99),
      errors: createErrors,
    };
    // baseline 2: raw SQLite
    const raw = rawSqlite(dir, CREATES, CONC, PAYLOAD);

    // lists as bench/list measures them: the hub optimizes its hot code only after a few
    // lists (heap-tuning.ts's interrupt budget), so the first JSON and Table lists after the
    // creates are reported on their own (list10k.*.first), two more of each warm up, then
    // JSON and Table alternate so both meet the same machine load
    const LIST_PATH = "/api/v1/namespaces/bench/configmaps";
    const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    const client = lists;
    await client.warm();
    const firstJson = (await client.list(LIST_PATH)).timing;
    const firstTable = (await client.list(LIST_PATH, TABLE)).timing;
    for (let i = 0; i < 2; i++) {
      await client.list(LIST_PATH);
      await client.list(LIST_PATH, TABLE);
    }
    const listJson: ListTiming[] = [];
    const listTable: ListTiming[] = [];
    const listCpu = { json: 0, table: 0, clientJson: 0, clientTable: 0 };
    for (let i = 0; i < LIST_RUNS; i++) {
      let h0 = cpuMs(hub.pid);
      const j = await client.list(LIST_PATH);
      listCpu.json += cpuMs(hub.pid) - h0;
      listCpu.clientJson += j.clientCpuMs;
      listJson.push(j.timing);
      h0 = cpuMs(hub.pid);
      const tb = await client.list(LIST_PATH, TABLE);
      listCpu.table += cpuMs(hub.pid) - h0;
      listCpu.clientTable += tb.clientCpuMs;
      listTable.push(tb.timing);
    }

    // the list's floors: its SELECT on the hub's file, and a bare HTTPS server sending its bytes
    const listBody: Buffer[] = [];
    await get(t, "/api/v1/namespaces/bench/configmaps", "application/json", listBody);
    const bodyFile = join(dir, "list-body.json");
    writeFileSync(bodyFile, Buffer.concat(listBody));
    const selectMs = rawListSelect(join(dir, "state.db"), "/registry/core/configmaps/bench/");
    const bare = await bareBodyServer(join(dir, "tls"), await freePort(), bodyFile);
    const bareSend: ListTiming[] = [];
    // timed by the hub's lists' client: the floor and the hub meet the same client
    for (let i = 0; i < 5; i++)
      bareSend.push((await client.list("/", "application/json", { url: bare.url, ca })).timing);
    await bare.stop();
    await client.stop();

    // watchers: every one must see every create, in order
    await mkNs("bench-watch");
    const rv = JSON.parse(
      await new Promise<string>((resolve) => {
        const req = request(
          new URL("/api/v1/namespaces/bench-watch/configmaps?limit=1", url),
          { ca, headers: { Authorization: `Bearer ${t.token}` } },
          (res) => {
            let s = "";
            res.on("data", (c) => (s += c));
            res.on("end", () => resolve(s));
          },
        );
        req.end();
      }),
    ).metadata.resourceVersion as string;
    const watchers = Array.from({ length: WATCHERS }, () =>
      watch(t, `/api/v1/namespaces/bench-watch/configmaps?watch=true&resourceVersion=${rv}`),
    );
    await new Promise((r) => setTimeout(r, 500));
    const rssBeforeWatchLoad = rssBytes(hub.pid);
    const wHubCpu0 = cpuMs(hub.pid);
    const wClientCpu0 = selfCpuMs();
    const wCreates = await runRawLoad(
      t,
      encodeRequests(t, CREATES, (i) => ({
        method: "POST",
        path: "/api/v1/namespaces/bench-watch/configmaps",
        body: body(i),
      })),
      CONC,
    );
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && watchers.some((w) => w.stat.events < CREATES))
      await new Promise((r) => setTimeout(r, 100));
    const rssUnderLoad = rssBytes(hub.pid);
    // CPU per create with every watcher fed: the hub's includes the fan-out, this process's the
    // load generator plus all watchers' reading (they share its one thread)
    const wHubCpuMs = cpuMs(hub.pid) - wHubCpu0;
    const wClientCpuMs = selfCpuMs() - wClientCpu0;
    for (const w of watchers) w.close();
    const perWatcher = watchers.map(
      (w) => w.stat.events / Math.max(0.001, (w.stat.lastAt - w.stat.firstAt) / 1000),
    );
    const complete = watchers.filter((w) => w.stat.events === CREATES && w.stat.inOrder).length;

    // watch capacity: the same watchers' events replayed from the log, starting inside the
    // retained window (10,000 revisions behind the newest), before the churn moves it on
    const skip = Math.ceil(CREATES / 10);
    const backlog = CREATES - skip;
    // start right after the skip-th create (other writes of the hub interleave revisions)
    const listed: Buffer[] = [];
    await get(t, "/api/v1/namespaces/bench-watch/configmaps", "application/json", listed);
    const createdRvs = (
      JSON.parse(Buffer.concat(listed).toString("utf8")) as {
        items: { metadata: { name: string; resourceVersion: string } }[];
      }
    ).items
      .filter((o) => o.metadata.name.startsWith("cm-"))
      .map((o) => Number(o.metadata.resourceVersion))
      .sort((a, b) => a - b);
    const fromRv = createdRvs[skip - 1] ?? Number(rv);
    // CPU of the hub and of this process over the replay: the hub's ms per delivered event
    // is the figure that holds on a loaded machine, where wall-clock rates follow the load
    const replayHubCpu0 = cpuMs(hub.pid);
    const replayClientCpu0 = process.cpuUsage();
    const replayT0 = performance.now();
    const replayers = Array.from({ length: WATCHERS }, () =>
      watch(t, `/api/v1/namespaces/bench-watch/configmaps?watch=true&resourceVersion=${fromRv}`),
    );
    const replayDeadline = Date.now() + 120_000;
    while (Date.now() < replayDeadline && replayers.some((w) => w.stat.events < backlog))
      await new Promise((r) => setTimeout(r, 50));
    const replaySeconds = (performance.now() - replayT0) / 1000;
    const replayHubCpuMs = cpuMs(hub.pid) - replayHubCpu0;
    const replayClientCpu = process.cpuUsage(replayClientCpu0);
    const replayClientCpuMs = (replayClientCpu.user + replayClientCpu.system) / 1000;
    const replayedEvents = replayers.reduce((a, w) => a + w.stat.events, 0);
    for (const w of replayers) w.close();
    const replayPerWatcher = replayers.map(
      (w) => w.stat.events / Math.max(0.001, (w.stat.lastAt - replayT0) / 1000),
    );

    // churn: CHURN updates to 50 objects while compaction runs; the file must stay bounded
    const fileMB = (f: string) => (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0) / 1048576;
    const dbSize = () => (fileMB("state.db") + fileMB("state.db-wal")) * 1048576;
    const sizeBeforeChurn = dbSize();
    const samples: { updates: number; mb: number; dbMB: number; walMB: number }[] = [];
    let churned = 0;
    const sampler = setInterval(() => {
      const dbMB = fileMB("state.db");
      const walMB = fileMB("state.db-wal");
      samples.push({ updates: churned, mb: dbMB + walMB, dbMB, walMB });
    }, 1000);
    // 120,000 requests are encoded as they go rather than held at once
    const churnReq = (i: number): RawRequest => {
      churned = i;
      return {
        method: "PUT",
        path: `/api/v1/namespaces/bench/configmaps/cm-${i % 50}`,
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `cm-${i % 50}` },
          data: { p: PAYLOAD, i: String(i) },
        }),
      };
    };
    const churn = await runRawLoad(t, { n: CHURN, make: (i) => encodeRequest(t, churnReq(i)) }, CONC);
    clearInterval(sampler);
    const sizeAfterChurn = dbSize();
    // one compaction period, then a quiet one for the idle TRUNCATE checkpoint
    await new Promise((r) => setTimeout(r, (2 * COMPACT_S + 1) * 1000));
    const sizeAfterCompaction = dbSize();
    // bounded: once the retained window (10,000 revisions) is full, compaction frees as many
    // rows as the churn adds, so the second half of a churn longer than twice the window does
    // not grow the main file beyond the first half's peak; the WAL stays under its
    // auto-checkpoint size (4,000 pages ≈ 16 MiB, truncated to 4 MiB after each checkpoint)
    const half = samples.filter((x) => x.updates < CHURN / 2);
    const peakFirstHalf = Math.max(0, ...half.map((x) => x.dbMB));
    const peakDb = Math.max(0, ...samples.map((x) => x.dbMB));
    const peakWal = Math.max(0, ...samples.map((x) => x.walMB));
    const peak = Math.max(0, ...samples.map((x) => x.mb));

    const result = {
      machine: {
        cores: (await import("node:os")).cpus().length,
        node: process.version,
        loadavgAtStart,
        loadavgAtEnd: loadavg(),
      },
      args: {
        creates: CREATES,
        watchers: WATCHERS,
        churn: CHURN,
        concurrency: CONC,
        rounds: ROUNDS,
        listRuns: LIST_RUNS,
        hubArgs: HUB_ARGS,
      },
      baseline: {
        httpsEchoPerSec: echoRes.opsPerSec,
        echoP50ms: echoRes.p50ms,
        echoP99ms: echoRes.p99ms,
        sqlite: raw,
        // CPU ms per request: a client costing as much as its server caps the echo rate
        echoClientCpuMsPerReq: cpu.echoClient / CREATES,
        echoServerCpuMsPerReq: cpu.echoServer / CREATES,
        createClientCpuMsPerReq: cpu.createClient / CREATES,
        hubCpuMsPerCreate: cpu.hub / CREATES,
        // what one Node thread can do here: the physical floor the creates target is compared with
        createFloor: createFloor(cpu, CREATES),
        listFloor: {
          sqliteSelectMedianMs: median(selectMs.ms),
          sqliteRows: selectMs.rows,
          bareHttpsSendMedianMs: median(bareSend.map((x) => x.totalMs)),
          bytes: bareSend[0]?.bytes,
        },
      },
      creates: { ...creates, ratioToEcho: creates.opsPerSec / echoRes.opsPerSec },
      list10k: {
        json: {
          medianTotalMs: median(listJson.map((x) => x.totalMs)),
          medianFirstByteMs: median(listJson.map((x) => x.firstByteMs)),
          bytes: listJson[0]?.bytes,
          runsMs: listJson.map((x) => Math.round(x.totalMs * 10) / 10),
          hubCpuMsPerList: listCpu.json / LIST_RUNS,
          clientCpuMsPerList: listCpu.clientJson / LIST_RUNS,
          first: { totalMs: firstJson.totalMs, firstByteMs: firstJson.firstByteMs },
        },
        table: {
          medianTotalMs: median(listTable.map((x) => x.totalMs)),
          medianFirstByteMs: median(listTable.map((x) => x.firstByteMs)),
          runsMs: listTable.map((x) => Math.round(x.totalMs * 10) / 10),
          hubCpuMsPerList: listCpu.table / LIST_RUNS,
          clientCpuMsPerList: listCpu.clientTable / LIST_RUNS,
          first: { totalMs: firstTable.totalMs, firstByteMs: firstTable.firstByteMs },
        },
      },
      watch: {
        watchers: WATCHERS,
        createsPerSec: wCreates.opsPerSec,
        watchersComplete: complete,
        watchersInOrder: watchers.filter((w) => w.stat.inOrder).length,
        minEventsReceived: Math.min(...watchers.map((w) => w.stat.events)),
        minEventsPerSecPerWatcher: Math.min(...perWatcher),
        medianEventsPerSecPerWatcher: median(perWatcher),
        // the fan-out's cost: creates/s with the watchers attached vs the create phase without
        createsPerSecWithoutWatchers: creates.opsPerSec,
        createsRatioWithWatchers: wCreates.opsPerSec / creates.opsPerSec,
        hubCpuMsPerCreateWithWatchers: wHubCpuMs / CREATES,
        clientCpuMsPerCreateWithWatchers: wClientCpuMs / CREATES,
        replay: {
          backlogEvents: backlog,
          seconds: replaySeconds,
          watchersComplete: replayers.filter((w) => w.stat.events === backlog && w.stat.inOrder).length,
          minEventsReceived: Math.min(...replayers.map((w) => w.stat.events)),
          minEventsPerSecPerWatcher: Math.min(...replayPerWatcher),
          medianEventsPerSecPerWatcher: median(replayPerWatcher),
          aggregateEventsPerSec: replayedEvents / replaySeconds,
          hubCpuMs: replayHubCpuMs,
          hubCpuUsPerEvent: (replayHubCpuMs * 1000) / Math.max(1, replayedEvents),
          clientCpuMs: replayClientCpuMs,
          // what one core of the hub could send each of the watchers at this CPU cost
          hubCoreEventsPerSecPerWatcher: (replayedEvents / Math.max(1, replayHubCpuMs)) * (1000 / WATCHERS),
        },
      },
      rss: {
        idleMB: idleRss / 1048576,
        beforeWatchLoadMB: rssBeforeWatchLoad / 1048576,
        underWatchLoadMB: rssUnderLoad / 1048576,
      },
      db: {
        churnUpdates: CHURN,
        churnUpdatesPerSec: churn.opsPerSec,
        churnErrors: churn.errors,
        ...(churn.failures ? { churnFailures: churn.failures } : {}),
        compactionIntervalS: COMPACT_S,
        beforeChurnMB: sizeBeforeChurn / 1048576,
        dbPeakFirstHalfMB: peakFirstHalf,
        dbPeakMB: peakDb,
        walPeakMB: peakWal,
        peakMB: peak,
        afterChurnMB: sizeAfterChurn / 1048576,
        afterCompactionMB: sizeAfterCompaction / 1048576,
        bounded:
          CHURN >= 20_000 ? peakDb <= peakFirstHalf * 1.1 + 1 && peakWal <= 20 : "churn too short to tell",
        samples,
      },
      targets: {
        createsPerSec: 8000,
        ratioToEcho: 0.35,
        p99ms: 50,
        list10kMs: 60,
        firstByteMs: 5,
        eventsPerSecPerWatcher: 3000,
        idleRssMB: 60,
      },
    };
    const file = writeResult("api", result, TAG);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${file}`);
  } finally {
    await lists?.stop();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
