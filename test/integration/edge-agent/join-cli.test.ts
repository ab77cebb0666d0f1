/**
 * `edge-agent join` end to end: the real CLI (node bin/edge-agent.mjs, built from src/cmd) joins a
 * real in-process hub over HTTPS, registers its Node, connects over MQTT/TLS, receives the pods
 * bound to it, and `edge-agent status` reports it; a token for another hub is refused.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../../src/client/client.js";
import { formatJoinToken, generateTokenParts } from "../../../src/lib/join-token.js";
import { caHash, createCA } from "../../../src/lib/pki.js";
import { mintToken } from "../../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../../helpers/hub.js";
import { uniqueNode } from "../../helpers/transport-fixture.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const BIN = join(ROOT, "bin/edge-agent.mjs");

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

let h: TestHub;
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
  h = await startHub();
});
afterAll(async () => {
  await h?.stop();
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM"); // by its pid: this is the process this test spawned
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ek-join-"));
  dirs.push(d);
  return d;
}

describe("edge-agent join (CLI)", () => {
  it("joins, registers the Node, syncs its pods and reports connected", async () => {
    const node = uniqueNode("cli");
    const dataDir = tempDir();
    const token = await mintToken(h.hub, h.dataDir);
    const child = spawn(
      process.execPath,
      [
        BIN,
        "join",
        h.hub.url,
        "--token",
        token,
        "--node-name",
        node,
        "--data-dir",
        dataDir,
        "--labels",
        "site=lab",
        "--no-pods",
        "--log-level",
        "warn",
        // link and cache only: pods and the overlay would use the host's Docker and network
        "--no-pods",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const client = h.hub.client;
    if (!client) throw new Error("hub has no client");
    await vi.waitFor(
      async () => {
        expect(child.exitCode, stderr).toBeNull();
        const n = await client.get(refs.nodes, undefined, node);
        expect(n?.metadata.labels).toMatchObject({
          "kubernetes.io/arch": expect.stringMatching(/^(amd64|arm64|arm)$/),
          "kubernetes.io/hostname": node,
          site: "lab",
        });
      },
      { timeout: 20_000, interval: 200 },
    );
    await client.create(refs.pods, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${node}-p`, namespace: "default" },
      spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
    });
    await vi.waitFor(
      async () => {
        const st = await cli(["status", "--data-dir", dataDir]);
        expect(st.code, st.stderr).toBe(0);
        expect(st.stdout).toMatch(/connection: +connected since/);
        expect(st.stdout).toMatch(/core\/pods=1/);
      },
      { timeout: 20_000, interval: 300 },
    );
    // the default credential: a password readable by the agent's user alone, nothing else
    const tls = join(dataDir, "tls");
    expect(readdirSync(tls).sort()).toEqual(["ca.crt", "node.password"]);
    expect(statSync(join(tls, "node.password")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dataDir, "agent.json"), "utf8")).credential).toBe("password");
    expect((await cli(["status", "--data-dir", dataDir])).stdout).toContain("credential:  per-node password");
    // stopped: SIGTERM stops the agent cleanly (exit 0, not killed by the signal), and status
    // still works from the files
    const exited = new Promise<[number | null, string | null]>((r) =>
      child.once("exit", (code, signal) => r([code, signal])),
    );
    child.kill("SIGTERM");
    expect(await exited, stderr).toEqual([0, null]);
    const st = await cli(["status", "--data-dir", dataDir]);
    expect(st.stdout).toContain("agent not running");
    expect(st.stdout).toMatch(/core\/pods=1/);
  });

  it("--client-cert joins with a certificate; a re-join without it moves the node to a password", async () => {
    const node = uniqueNode("cert");
    const dataDir = tempDir();
    const tls = join(dataDir, "tls");
    const token = await mintToken(h.hub, h.dataDir);
    const joinArgs = [BIN, "join", h.hub.url, "--token", token, "--node-name", node, "--data-dir", dataDir];
    const runUntilConnected = async (extra: string[]) => {
      const child = spawn(process.execPath, [...joinArgs, ...extra, "--no-pods", "--log-level", "warn"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let stderr = "";
      child.stderr?.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      await vi.waitFor(
        async () => {
          expect(child.exitCode, stderr).toBeNull();
          const st = await cli(["status", "--data-dir", dataDir]);
          expect(st.stdout).toMatch(/connection: +connected since/);
        },
        { timeout: 20_000, interval: 300 },
      );
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    };
    await runUntilConnected(["--client-cert"]);
    expect(readdirSync(tls).sort()).toEqual(["ca.crt", "node.crt", "node.key"]);
    expect(statSync(join(tls, "node.key")).mode & 0o777).toBe(0o600);
    expect((await cli(["status", "--data-dir", dataDir])).stdout).toContain(
      "credential:  client certificate",
    );
    expect(
      await h.hub.client?.get(refs.secrets, "kube-system", `${node}.node-password.edgekube`),
    ).toBeUndefined();

    await runUntilConnected([]);
    expect(readdirSync(tls).sort()).toEqual(["ca.crt", "node.password"]);
    expect(
      await h.hub.client?.get(refs.secrets, "kube-system", `${node}.node-password.edgekube`),
    ).toBeDefined();
  });

  it("refuses a token for another hub with the exact message, storing nothing", async () => {
    const other = await createCA("another-hub");
    const { id, secret } = generateTokenParts();
    const token = formatJoinToken(caHash(other.certPem), id, secret);
    const dataDir = tempDir();
    const r = await cli([
      "join",
      h.hub.url,
      "--token",
      token,
      "--node-name",
      uniqueNode("wrong"),
      "--data-dir",
      dataDir,
    ]);
    expect(r.code).toBe(1);
    const origin = new URL(h.hub.url).origin;
    expect(r.stderr.trim()).toBe(
      `edge-agent: the hub at ${origin} presented CA ${caHash(readFileSync(join(h.dataDir, "tls", "ca.crt"), "utf8"))}, but the join token expects ${caHash(other.certPem)}: the token is for another hub (or a man in the middle); get a token from this hub with "edge-hub token create"`,
    );
    const st = await cli(["status", "--data-dir", dataDir]);
    expect(st.code).toBe(1);
    expect(st.stderr).toContain("has not joined a hub yet");
  });

  it("rejects bad flags with usage errors (exit 2)", async () => {
    const r1 = await cli(["join", h.hub.url]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain("--token is required");
    const r2 = await cli(["join", "http://hub:6443", "--token", "x"]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("must use https://");
    const r3 = await cli(["join", h.hub.url, "--token", "K10xyz"]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain("join token is malformed");
  });
});
