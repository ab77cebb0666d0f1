/**
 * Running one probe: exec, httpGet, tcpSocket. Timing and thresholds are probe-worker.ts's.
 *
 * Design notes
 * - exec runs through `ContainerRuntime.exec`; success is exit code 0 within timeoutSeconds.
 * - httpGet / tcpSocket go where the kubelet sends them: the pod's IP (or `host`) from the
 *   agent's own network namespace. httpGet succeeds on 200–399, tcpSocket on a connect.
 * - A pod without an IP (no overlay wired yet, or the overlay is off) has only loopback inside
 *   its sandbox. Such probes run inside the sandbox's network namespace against 127.0.0.1 with
 *   `nsenter --net=<netns> busybox wget|nc`: one short process per probe, no dependency on what
 *   the app image contains (an image without wget still gets its httpGet probe), and no agent
 *   thread ever changes namespaces (Node cannot setns a single thread). The cost is a
 *   busybox on the host, which the agent's image ships. hostNetwork pods use the host's
 *   address directly.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Container, Probe } from "kubernetes-types/core/v1";
import type { ContainerRuntime } from "../runtime/runtime.js";

export interface ProbeTarget {
  podUid: string;
  container: Container;
  /** the pod's IP when the overlay gave it one (hostNetwork: the host IP) */
  podIP?: string;
  /** the sandbox's network namespace, for pods without an IP */
  netnsPath?: string;
}

export interface ProbeResult {
  ok: boolean;
  output: string;
}

export interface ProbeRunnerOptions {
  runtime: ContainerRuntime;
  nsenter?: string;
  busybox?: string;
}

export type RunProbe = (probe: Probe, target: ProbeTarget) => Promise<ProbeResult>;

function resolvePort(port: number | string, c: Container): number | undefined {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function execProbe(
  rt: ContainerRuntime,
  cmd: string[],
  t: ProbeTarget,
  ms: number,
): Promise<ProbeResult> {
  const session = await rt.exec(t.podUid, t.container.name, cmd);
  let output = "";
  const collect = (b: Buffer) => {
    if (output.length < 1024) output += b.toString();
  };
  session.stdout.on("data", collect);
  session.stderr.on("data", collect);
  return withTimeout(
    session.exitCode.then((code) => ({
      ok: code === 0,
      output: code === 0 ? output : output.trim() || `command ${JSON.stringify(cmd)} exited with ${code}`,
    })),
    ms,
    () => ({ ok: false, output: `command ${JSON.stringify(cmd)} timed out after ${ms / 1000}s` }),
  );
}

function httpDirect(url: URL, headers: Record<string, string>, ms: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.get(url, { headers, timeout: ms, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve({ ok: code >= 200 && code < 400, output: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on("timeout", () => req.destroy(new Error(`Get "${url}": context deadline exceeded`)));
    req.on("error", (err) => resolve({ ok: false, output: `Get "${url}": ${err.message}` }));
  });
}

function tcpDirect(host: string, port: number, ms: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: ms });
    s.on("connect", () => {
      s.destroy();
      resolve({ ok: true, output: "" });
    });
    s.on("timeout", () => s.destroy(new Error("i/o timeout")));
    s.on("error", (err) => resolve({ ok: false, output: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

function inNetns(opts: ProbeRunnerOptions, netns: string, args: string[], ms: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      opts.nsenter ?? "nsenter",
      [`--net=${netns}`, opts.busybox ?? "busybox", ...args],
      { timeout: ms, killSignal: "SIGKILL" },
      (err, _stdout, stderr) =>
        resolve({ ok: !err, output: err ? String(stderr).trim() || err.message : "" }),
    );
  });
}

export function probeRunner(opts: ProbeRunnerOptions): RunProbe {
  return async (probe, t) => {
    const ms = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
    if (probe.exec) return execProbe(opts.runtime, probe.exec.command ?? [], t, ms);
    const action = probe.httpGet ?? probe.tcpSocket;
    if (!action) return { ok: false, output: "probe has no handler: set exec, httpGet or tcpSocket" };
    const port = resolvePort(action.port, t.container);
    if (port === undefined) return { ok: false, output: `unknown named port "${String(action.port)}"` };
    const host = action.host || t.podIP;
    const secs = String(Math.ceil(ms / 1000));
    if (probe.httpGet) {
      const scheme = (probe.httpGet.scheme ?? "HTTP").toLowerCase();
      const path = probe.httpGet.path || "/";
      const headers: Record<string, string> = { "User-Agent": "kube-probe/1.32", Accept: "*/*" };
      for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
      if (host || !t.netnsPath) {
        return httpDirect(
          new URL(`${scheme}://${host ?? "127.0.0.1"}:${port}${path.startsWith("/") ? path : `/${path}`}`),
          headers,
          ms,
        );
      }
      // no `-T`: Debian's static busybox 1.35 wget crashes (SIGSEGV) with it; the process
      // timeout below bounds the probe instead
      const args = ["wget", "-q", "-O", "/dev/null"];
      if (scheme === "https") args.push("--no-check-certificate");
      for (const [k, v] of Object.entries(headers)) args.push("--header", `${k}: ${v}`);
      args.push(`${scheme}://127.0.0.1:${port}${path.startsWith("/") ? path : `/${path}`}`);
      return inNetns(opts, t.netnsPath, args, ms);
    }
    if (host || !t.netnsPath) return tcpDirect(host ?? "127.0.0.1", port, ms);
    return inNetns(opts, t.netnsPath, ["nc", "-w", secs, "127.0.0.1", String(port), "-e", "true"], ms);
  };
}
