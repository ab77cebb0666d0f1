/**
 * The stream half of bench/pods: log throughput through the hub (pods/log over HTTPS and
 * `kubectl logs`, with `docker logs` on the node's dockerd as the baseline) and exec round trips
 * (one `cat` session over WebSocket v5.channel.k8s.io, one line per round; whole
 * `kubectl exec -- true` runs). Runs against the pods bench's one-node dev cluster.
 */
import { spawn } from "node:child_process";
import type { DevCluster } from "../../scripts/lib/dev-cluster/cluster.js";
import type { HttpClient } from "../../src/client/http-client.js";
import { openExec, readLog } from "./hub-streams.js";
import { median, percentile } from "./stats.js";

export interface StreamsContext {
  api: HttpClient;
  cluster: DevCluster;
  node: string;
  ns: string;
  manifest(name: string, script: string): object;
  until<T>(what: string, f: () => Promise<T | undefined>, ms?: number): Promise<T>;
  log(m: string): void;
  /** HOME for kubectl (its cache) */
  home: string;
  logMb: number;
  execRounds: number;
  reads: number;
  kubectlExecs: number;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Runs a command, discarding its output but counting it; resolves with bytes and seconds. */
export function timedRun(
  cmd: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ bytes: number; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let bytes = 0;
    let err = "";
    p.stdout.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    p.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    p.once("error", reject);
    p.once("exit", (code) =>
      code === 0
        ? resolve({ bytes, seconds: (performance.now() - t0) / 1000 })
        : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

export async function measureStreams(x: StreamsContext) {
  const { api, ns: NS, log, until, home } = x;
  const c = x.cluster;
  const cfg = api.config;
  const NODE = x.node;
  const LOG_MB = x.logMb;
  const EXEC_ROUNDS = x.execRounds;
  const result: Record<string, unknown> = {};
  // log throughput: a container that writes LOG_MB MB of 100-byte lines, then a marker
  const line = "0123456789".repeat(10).slice(0, 99);
  const bytes = LOG_MB * 1024 * 1024;
  await api.post(
    `/api/v1/namespaces/${NS}/pods`,
    x.manifest("logger", `yes ${line} | head -c ${bytes}; echo; echo LOG-DONE; exec sleep 3600`),
  );
  await until("the logger to write its log", async () => {
    const tail = await readLog(cfg, NS, "logger", "?tailLines=1");
    return tail.bytes > 0 && tail.bytes < 20 ? true : undefined;
  });
  const viaApi: number[] = [];
  const viaKubectl: number[] = [];
  const viaDocker: number[] = [];
  const node = c.node(NODE);
  const cid = c
    .docker(node, [
      "ps",
      "-q",
      "--filter",
      "label=edgekube.io/role=app",
      "--filter",
      "label=io.kubernetes.pod.name=logger",
    ])
    .trim();
  for (let i = 0; i < x.reads; i++) {
    const a = await readLog(cfg, NS, "logger");
    viaApi.push(a.bytes / 1e6 / a.seconds);
    const k = await timedRun("/usr/bin/kubectl", ["--kubeconfig", c.kubeconfig, "logs", "logger"], {
      ...process.env,
      HOME: home,
    });
    viaKubectl.push(k.bytes / 1e6 / k.seconds);
    const d = await timedRun("docker", ["-H", `unix://${node.dockerSock}`, "logs", cid]);
    viaDocker.push(d.bytes / 1e6 / d.seconds);
    log(
      `log ${round(a.bytes / 1e6)} MB: API ${round(viaApi.at(-1) ?? 0)} MB/s, kubectl ${round(viaKubectl.at(-1) ?? 0)} MB/s, docker logs ${round(viaDocker.at(-1) ?? 0)} MB/s`,
    );
  }
  result.logThroughputMBps = {
    bytes,
    api: round(median(viaApi), 2),
    kubectl: round(median(viaKubectl), 2),
    dockerLogsBaseline: round(median(viaDocker), 2),
    runs: {
      api: viaApi.map((x) => round(x, 2)),
      kubectl: viaKubectl.map((x) => round(x, 2)),
      docker: viaDocker.map((x) => round(x, 2)),
    },
  };

  // exec: one cat session, one line per round trip; then whole `kubectl exec -- true` runs
  const s = await openExec(cfg, NS, "logger", ["cat"]);
  const rtts: number[] = [];
  for (let i = 0; i < EXEC_ROUNDS; i++) rtts.push(await s.roundTrip(`ping ${i}\n`, `ping ${i}\n`));
  await s.close();
  rtts.sort((a, b) => a - b);
  const whole: number[] = [];
  for (let i = 0; i < x.kubectlExecs; i++) {
    const k = await timedRun(
      "/usr/bin/kubectl",
      ["--kubeconfig", c.kubeconfig, "exec", "logger", "--", "true"],
      { ...process.env, HOME: home },
    );
    whole.push(k.seconds * 1000);
  }
  whole.sort((a, b) => a - b);
  result.execRoundTripMs = {
    session: {
      rounds: EXEC_ROUNDS,
      p50: round(percentile(rtts, 50), 2),
      p99: round(percentile(rtts, 99), 2),
    },
    kubectlExecTrue: {
      runs: whole.length,
      p50: Math.round(percentile(whole, 50)),
      p99: Math.round(percentile(whole, 99)),
    },
  };
  log(`exec round trip p50 ${round(percentile(rtts, 50), 2)} ms, p99 ${round(percentile(rtts, 99), 2)} ms`);
  return {
    logThroughputMBps: result.logThroughputMBps as { api: number } & Record<string, unknown>,
    execRoundTripMs: result.execRoundTripMs,
  };
}
