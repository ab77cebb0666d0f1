/**
 * Preset join token end to end, with the real CLIs (bin/edge-hub.mjs and bin/edge-agent.mjs,
 * built from src/cmd) on loopback: `edge-hub server --join-token-file FILE` makes FILE's
 * <id>.<secret> valid; agents join with that short token plus --ca-hash, or with
 * --insecure-trust-first-ca (warning naming the CA); alone it is refused. Restarting with the
 * same FILE leaves the token untouched; a new secret refuses the old one; a new id deletes the
 * previous preset; a malformed FILE stops the hub with an error naming it. Agents run with
 * --no-pods (no Docker, links or routes on the host); every process is stopped by its pid.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { NO_CA_PIN_HELP } from "../../../src/edge-agent/join/credential.js";
import { generateTokenParts } from "../../../src/lib/join-token.js";
import { runKubectl } from "../../helpers/hub.js";
import { uniqueNode } from "../../helpers/transport-fixture.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const HUB_BIN = join(ROOT, "bin/edge-hub.mjs");
const AGENT_BIN = join(ROOT, "bin/edge-agent.mjs");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((res) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

const children: ChildProcess[] = [];
let dir = "";
let dataDir = "";
let tokenFile = "";
let kubeHome = "";

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM"); // by its pid: a process this test spawned
  const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}

interface RunningHub {
  child: ChildProcess;
  url: string;
  caHash: string;
}

/** `edge-hub server` on loopback with free ports; resolves once it printed its CA line. */
async function startHub(): Promise<RunningHub> {
  const child = spawn(
    process.execPath,
    [
      HUB_BIN,
      "server",
      "--data-dir",
      dataDir,
      "--bind-address",
      "127.0.0.1",
      "--https-port",
      "0",
      "--mqtt-port",
      "0",
      "--join-token-file",
      tokenFile,
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  await vi.waitFor(
    () => {
      expect(child.exitCode, out).toBeNull();
      expect(out).toMatch(/edge-hub: CA sha256:/);
    },
    { timeout: 30_000, interval: 100 },
  );
  const url = /edge-hub: ready at (https:\/\/\S+);/.exec(out)?.[1];
  const caHash = /edge-hub: CA (sha256:[0-9a-f]{64}) /.exec(out)?.[1];
  if (!url || !caHash) throw new Error(`unexpected hub output:\n${out}`);
  return { child, url, caHash };
}

function kubectl(args: string[]): Promise<Run> {
  return runKubectl(join(dataDir, "admin.kubeconfig"), kubeHome, args, { allowFail: true });
}

/** The bootstrap tokens the hub holds: name → token-secret (decoded), via real kubectl. */
async function bootstrapTokens(): Promise<Map<string, { secret: string; rv: string; labels: string }>> {
  const r = await kubectl(["get", "secrets", "-n", "kube-system", "-o", "json"]);
  expect(r.code, r.stderr).toBe(0);
  const list = JSON.parse(r.stdout) as {
    items: {
      type?: string;
      metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
      data?: Record<string, string>;
    }[];
  };
  const out = new Map<string, { secret: string; rv: string; labels: string }>();
  for (const s of list.items) {
    if (s.type !== "bootstrap.kubernetes.io/token") continue;
    out.set(s.metadata.name, {
      secret: Buffer.from(s.data?.["token-secret"] ?? "", "base64").toString(),
      rv: s.metadata.resourceVersion,
      labels: JSON.stringify(s.metadata.labels ?? {}),
    });
  }
  return out;
}

/** Starts `edge-agent join … --no-pods` and waits until its Node exists; then stops it. */
async function joinAndStop(hub: RunningHub, token: string, extra: string[]): Promise<string> {
  const node = uniqueNode("preset");
  const agentDir = join(dir, node);
  const child = spawn(
    process.execPath,
    [AGENT_BIN, "join", hub.url, "--token", token, ...extra].concat([
      "--node-name",
      node,
      "--data-dir",
      agentDir,
      "--no-pods",
      "--log-level",
      "error",
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  await vi.waitFor(
    async () => {
      expect(child.exitCode, out).toBeNull();
      expect(out).toContain(`node "${node}" joined`);
      const r = await kubectl(["get", "node", node, "-o", "name"]);
      expect(r.stdout.trim()).toBe(`node/${node}`);
    },
    { timeout: 30_000, interval: 250 },
  );
  await stopChild(child);
  return out;
}

function joinOnce(hub: RunningHub, token: string, extra: string[]): Promise<Run> {
  const node = uniqueNode("refused");
  return run(AGENT_BIN, [
    "join",
    hub.url,
    "--token",
    token,
    ...extra,
    "--node-name",
    node,
    "--data-dir",
    join(dir, node),
    "--no-pods",
  ]);
}

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
  dir = mkdtempSync(join(tmpdir(), "ek-preset-"));
  dataDir = join(dir, "hub");
  tokenFile = join(dir, "join-token");
  kubeHome = join(dir, "kubectl-home");
});
afterEach(async () => {
  for (const c of children.splice(0)) await stopChild(c);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("edge-hub server --join-token-file", () => {
  const first = generateTokenParts();
  const rotated = generateTokenParts().secret;
  const second = generateTokenParts();
  const name = (id: string) => `bootstrap-token-${id}`;

  it("creates the token; agents join with --ca-hash or --insecure-trust-first-ca, not bare", async () => {
    writeFileSync(tokenFile, `# preset\n${first.id}.${first.secret}\n`, { mode: 0o600 });
    const hub = await startHub();
    const tokens = await bootstrapTokens();
    expect([...tokens.keys()]).toEqual([name(first.id)]);
    expect(tokens.get(name(first.id))?.secret).toBe(first.secret);
    const desc = await kubectl([
      "get",
      "secret",
      "-n",
      "kube-system",
      name(first.id),
      "-o",
      "jsonpath={.data.description}",
    ]);
    expect(Buffer.from(desc.stdout, "base64").toString()).toBe(`preset from ${tokenFile}`);
    // the hash the hub prints is the one `edge-hub token ca-hash` prints
    const ca = await run(HUB_BIN, ["token", "ca-hash", "--data-dir", dataDir]);
    expect(ca.stdout.trim()).toBe(hub.caHash);

    const short = `${first.id}.${first.secret}`;
    await joinAndStop(hub, short, ["--ca-hash", hub.caHash]);
    const tofu = await joinAndStop(hub, short, ["--insecure-trust-first-ca"]);
    expect(tofu).toContain(
      `edge-agent: WARNING: --insecure-trust-first-ca: trusting the CA ${new URL(hub.url).origin} presented, ${hub.caHash}, without a pin`,
    );

    const bare = await joinOnce(hub, short, []);
    expect(bare.code).toBe(2);
    expect(bare.stderr.trim()).toBe(`edge-agent join: ${NO_CA_PIN_HELP}`);
    const wrongPin = `sha256:${"0".repeat(64)}`;
    const mismatch = await joinOnce(hub, short, ["--ca-hash", wrongPin]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`presented CA ${hub.caHash}, but the join token expects ${wrongPin}`);
  });

  it("a restart with the same file leaves the token as it was (no duplicate, no rewrite)", async () => {
    const before = await (async () => {
      const hub = await startHub();
      const t = await bootstrapTokens();
      await stopChild(hub.child);
      return t;
    })();
    await startHub();
    const after = await bootstrapTokens();
    expect([...after.keys()]).toEqual([name(first.id)]);
    expect(after.get(name(first.id))?.rv).toBe(before.get(name(first.id))?.rv);
  });

  it("a new secret for the same id refuses the old one; a new id deletes the previous preset", async () => {
    writeFileSync(tokenFile, `${first.id}.${rotated}\n`);
    let hub = await startHub();
    const old = await joinOnce(hub, `${first.id}.${first.secret}`, ["--ca-hash", hub.caHash]);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain(`refused the join (HTTP 401): the join token is not valid or has expired`);
    await joinAndStop(hub, `${first.id}.${rotated}`, ["--ca-hash", hub.caHash]);
    await stopChild(hub.child);

    writeFileSync(tokenFile, `${second.id}.${second.secret}\nexpiration: 2099-01-01T00:00:00Z\n`);
    hub = await startHub();
    const tokens = await bootstrapTokens();
    expect([...tokens.keys()]).toEqual([name(second.id)]);
    expect(tokens.get(name(second.id))?.labels).toBe('{"edgekube.io/preset-join-token":"true"}');
    const gone = await joinOnce(hub, `${first.id}.${rotated}`, ["--ca-hash", hub.caHash]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("HTTP 401");
    await joinAndStop(hub, `${second.id}.${second.secret}`, ["--ca-hash", hub.caHash]);
  });

  it("a malformed or missing file stops the hub with an error naming the file and the format", async () => {
    writeFileSync(tokenFile, "not-a-token\n");
    // loopback and free ports, should the file ever be accepted
    const safe = ["--bind-address", "127.0.0.1", "--https-port", "0", "--mqtt-port", "0"];
    const bad = await run(HUB_BIN, [
      "server",
      "--data-dir",
      dataDir,
      ...safe,
      "--join-token-file",
      tokenFile,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `edge-hub: join token file ${tokenFile}: line 1 is not a bootstrap token: write one bootstrap token "<id>.<secret>" ` +
        '(6 and 16 characters of a-z and 0-9, e.g. abcdef.0123456789abcdef), optionally followed by a line "expiration: <RFC3339 time>"',
    );
    const missing = join(dir, "no-such-file");
    const gone = await run(HUB_BIN, ["server", "--data-dir", dataDir, ...safe, "--join-token-file", missing]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`--join-token-file ${missing} cannot be read (ENOENT)`);
  });
});
