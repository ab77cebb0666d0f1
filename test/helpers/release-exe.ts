/**
 * Helpers for tests and benchmarks of the release executables (scripts/build-release.mjs):
 * build them once, and run a hub from one of them as a child process on a loopback port.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const RELEASE_DIR = join(ROOT, "dist/release");
export const ARCHES = ["amd64", "arm64"] as const;
export type Arch = (typeof ARCHES)[number];

export function exePath(arch: Arch): string {
  return join(RELEASE_DIR, `edgekube-linux-${arch}`);
}

/** Environment for arm64 executables under qemu-user: the arm64 libc of the cross toolchain. */
export const QEMU_ENV = { QEMU_LD_PREFIX: "/usr/aarch64-linux-gnu" };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      {
        env: { ...process.env, ...QEMU_ENV, ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 << 20,
        cwd: opts.cwd ?? ROOT,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs the release build (incremental: a warm rebuild re-bundles and re-injects only what
 * changed) and returns how long it took.
 */
/**
 * Builds the release once at a time: several test files (in parallel workers) may ask for it,
 * and two builds in one checkout would share the compile cache. A lock file made with O_EXCL
 * serialises them; the second build finds everything cached and takes seconds.
 */
export async function buildRelease(): Promise<number> {
  const t0 = performance.now();
  const lock = join(ROOT, "dist", ".build-release.lock");
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"));
      break;
    } catch {
      // a lock older than the build's own timeout belongs to a dead run
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 25 * 60_000) rmSync(lock, { force: true });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    const r = await run(process.execPath, ["scripts/build-release.mjs"], { timeoutMs: 20 * 60_000 });
    if (r.code !== 0) throw new Error(`scripts/build-release.mjs failed (exit ${r.code}):\n${r.stderr}`);
  } finally {
    rmSync(lock, { force: true });
  }
  return performance.now() - t0;
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => done(port));
    });
  });
}

export interface ExeHub {
  child: ChildProcess;
  port: number;
  dataDir: string;
  kubeconfig: string;
  /** everything the process wrote so far */
  output: () => string;
  /** resolves once the hub printed its ready line; rejects if it exits first */
  ready: Promise<void>;
  stop: () => Promise<void>;
}

/**
 * Starts `edge-hub server` from a release executable, invoked through a symlink named
 * `edge-hub` (the argv[0] dispatch), in a fresh temp dir.
 */
export async function startExeHub(arch: Arch): Promise<ExeHub> {
  const dir = mkdtempSync(join(tmpdir(), `ek-release-${arch}-`));
  const link = join(dir, "edge-hub");
  symlinkSync(exePath(arch), link);
  const dataDir = join(dir, "data");
  const port = await freePort();
  const child = spawn(
    link,
    // a free MQTT port too: two release hubs (amd64 and arm64) run at once
    [
      "server",
      "--data-dir",
      dataDir,
      "--https-port",
      String(port),
      "--bind-address",
      "127.0.0.1",
      "--mqtt-port",
      "0",
    ],
    { env: { ...process.env, ...QEMU_ENV }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const ready = new Promise<void>((done, fail) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes("edge-hub: ready at")) done();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    exited.then((code) => fail(new Error(`edge-hub (${arch}) exited with ${code} before ready:\n${out}`)));
  });
  ready.catch(() => {});
  return {
    child,
    port,
    dataDir,
    kubeconfig: join(dataDir, "admin.kubeconfig"),
    output: () => out,
    ready,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `edge-hub token create` from the host's (amd64) executable against a running exe hub. */
export async function createExeToken(hub: ExeHub): Promise<string> {
  const r = await run(exePath("amd64"), [
    "hub",
    "token",
    "create",
    "--kubeconfig",
    hub.kubeconfig,
    "--ttl",
    "1h",
  ]);
  if (r.code !== 0) throw new Error(`edge-hub token create failed (exit ${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

export interface ExeAgent {
  child: ChildProcess;
  nodeName: string;
  dataDir: string;
  output: () => string;
  /** resolves once `edge-agent status` reports the MQTT link connected; rejects if it exits */
  connected: (timeoutMs: number) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * Starts `edgekube agent join … --no-pods` from a release executable against an exe hub on
 * loopback: link and cache only, so it creates no links, routes, rules or containers on the
 * host. Connection state comes from `edge-agent status` (the agent's own status file).
 * mqttWebSocket: MQTT over wss on the hub's HTTPS port (/mqtt) instead of mqtts.
 */
export function startExeAgent(
  arch: Arch,
  hub: ExeHub,
  token: string,
  nodeName: string,
  opts: { mqttWebSocket?: boolean } = {},
): ExeAgent {
  const dataDir = mkdtempSync(join(tmpdir(), `ek-agent-${arch}-`));
  const child = spawn(
    exePath(arch),
    [
      "agent",
      "join",
      `https://127.0.0.1:${hub.port}`,
      "--token",
      token,
      "--node-name",
      nodeName,
      "--data-dir",
      dataDir,
      "--no-pods",
      ...(opts.mqttWebSocket ? ["--mqtt-websocket"] : []),
    ],
    { env: { ...process.env, ...QEMU_ENV }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const onData = (b: Buffer) => {
    out += b.toString();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const connected = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`edge-agent (${arch}) exited with ${child.exitCode}:\n${out}`);
      // the host's executable reads the status: quick, and independent of the agent's arch
      const st = await run(exePath("amd64"), ["agent", "status", "--data-dir", dataDir]);
      if (/^connection:\s+connected/m.test(st.stdout)) return;
      if (Date.now() > deadline) {
        throw new Error(`edge-agent (${arch}) not connected after ${timeoutMs} ms:\n${st.stdout}\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    child,
    nodeName,
    dataDir,
    output: () => out,
    connected,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
