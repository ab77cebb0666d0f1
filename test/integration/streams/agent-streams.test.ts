/**
 * Streams through a real edge link: a hub-side StreamMux on a real aedes broker, an agent-side
 * StreamServer on a real mqtt.js EdgeLink, and the agent handlers against a real dockerd.
 */
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { DockerRuntime, PodRuntimeSpec } from "../../../src/edge-agent/runtime/index.js";
import { agentStreamHandlers } from "../../../src/edge-agent/streams/index.js";
import {
  CH_CLOSE,
  CH_STATUS,
  CH_STDERR,
  CH_STDIN,
  CH_STDOUT,
  ChannelDecoder,
  encodeChannel,
  type MuxStream,
  StreamMux,
  StreamServer,
} from "../../../src/transport/streams/index.js";
import { hasDocker, hasRoot, need } from "../../helpers/prereq.js";
import { RuntimeFixture } from "../../helpers/runtime.js";
import { Fixture, uniqueNode } from "../../helpers/transport-fixture.js";

const WINDOW = 256 * 1024;
let fx: Fixture;
let rf: RuntimeFixture;
let runtime: DockerRuntime;
let mux: StreamMux;
let node: string;
/** the agent-side stream of the latest accepted open, to observe its buffering */
let lastAgentStream: MuxStream | undefined;

const ok = need(hasDocker(), hasRoot());

beforeAll(async () => {
  if (!ok) return;
  fx = await Fixture.create();
  rf = new RuntimeFixture();
  runtime = rf.runtime();
  await runtime.start();
  node = uniqueNode("streams");
  const broker = await fx.broker();
  const link = await fx.link(node, broker.address().port);
  await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 15_000 });
  mux = new StreamMux({ channel: broker, window: WINDOW });
  await mux.start();
  fx.defer(() => mux.stop());
  const handlers = agentStreamHandlers({ runtime, docker: rf.docker });
  for (const [kind, h] of Object.entries(handlers)) {
    handlers[kind as keyof typeof handlers] = (req) =>
      h({
        ...req,
        accept: () => {
          lastAgentStream = req.accept();
          return lastAgentStream;
        },
      });
  }
  const server = new StreamServer({ channel: link, handlers, window: WINDOW });
  await server.start();
  fx.defer(() => server.stop());
}, 120_000);

afterAll(async () => {
  await fx?.cleanup();
  await rf?.cleanup();
});

async function runPod(script: string): Promise<PodRuntimeSpec> {
  const spec = rf.pod({ containers: [{ name: "c", image: rf.image, command: ["sh", "-c", script] }] });
  await runtime.runPod(spec);
  return spec;
}

function target(spec: PodRuntimeSpec) {
  return { podUid: spec.uid, pod: `${spec.namespace}/${spec.name}`, container: "c" };
}

function collect(s: Duplex): { text: () => string; ended: Promise<void> } {
  let text = "";
  s.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const ended = new Promise<void>((resolve, reject) => {
    s.once("end", resolve);
    s.once("error", reject);
  });
  return { text: () => text, ended };
}

describe.skipIf(!ok)("streams over MQTT to Docker", () => {
  it("follows logs as lines are written", async () => {
    const spec = await runPod('i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done');
    const s = await mux.open(node, "logs", { ...target(spec), follow: true });
    const out = collect(s);
    await vi.waitFor(() => expect(out.text()).toContain("line 3"), { timeout: 15_000 });
    const seen = out.text().length;
    await vi.waitFor(() => expect(out.text().length).toBeGreaterThan(seen), { timeout: 5_000 });
    s.destroy();
  });

  it("refuses logs of an unknown container with the upstream message", async () => {
    const spec = await runPod("sleep 3600");
    await expect(mux.open(node, "logs", { ...target(spec), previous: true })).rejects.toThrow(
      /previous terminated container "c" in pod ".*" not found/,
    );
  });

  it("execs with stdin, stdout, stderr and the exit code", async () => {
    const spec = await runPod("sleep 3600");
    const s = await mux.open(node, "exec", {
      ...target(spec),
      command: ["sh", "-c", "cat; echo oops >&2; exit 3"],
      stdin: true,
    });
    const dec = new ChannelDecoder();
    const got: Record<number, string> = { [CH_STDOUT]: "", [CH_STDERR]: "", [CH_STATUS]: "" };
    s.on("data", (c: Buffer) => {
      for (const m of dec.push(c)) got[m.channel] = (got[m.channel] ?? "") + m.payload.toString();
    });
    const ended = new Promise((r) => s.once("end", r));
    s.write(encodeChannel(CH_STDIN, "hello "));
    s.write(encodeChannel(CH_STDIN, "world"));
    s.write(encodeChannel(CH_CLOSE, Buffer.from([CH_STDIN])));
    await ended;
    expect(got[CH_STDOUT]).toBe("hello world");
    expect(got[CH_STDERR]).toBe("oops\n");
    expect(JSON.parse(got[CH_STATUS]!)).toEqual({ exitCode: 3 });
  });

  it("attaches to a container's main process (stdin and output)", async () => {
    const spec = rf.pod({
      containers: [
        {
          name: "c",
          image: rf.image,
          command: ["sh", "-c", 'while read l; do echo "got $l"; done'],
          stdin: true,
        },
      ],
    });
    await runtime.runPod(spec);
    const s = await mux.open(node, "attach", { ...target(spec), stdin: true });
    const dec = new ChannelDecoder();
    let out = "";
    s.on("data", (c: Buffer) => {
      for (const m of dec.push(c)) if (m.channel === CH_STDOUT) out += m.payload.toString();
    });
    s.write(encodeChannel(CH_STDIN, "one\n"));
    await vi.waitFor(() => expect(out).toBe("got one\n"), { timeout: 10_000 });
    s.destroy();
    await expect(mux.open(node, "attach", { ...target(spec), container: "nope" })).rejects.toThrow(
      'container not found ("nope")',
    );
  });

  it("forwards a TCP connection into the pod's network namespace", async () => {
    const spec = await runPod("while true; do nc -l -p 7000 -e cat; done");
    // the listener starts asynchronously: retry the connection until the echo comes back
    await vi.waitFor(
      async () => {
        const s = await mux.open(node, "portforward", { podUid: spec.uid, pod: spec.name, port: 7000 });
        const out = collect(s);
        out.ended.catch(() => {});
        s.end("ping through the hub\n");
        await out.ended;
        expect(out.text()).toBe("ping through the hub\n");
      },
      { timeout: 20_000, interval: 300 },
    );
  });

  it("reports a refused port-forward connection as a stream error", async () => {
    const spec = await runPod("sleep 3600");
    const s = await mux.open(node, "portforward", { podUid: spec.uid, pod: spec.name, port: 7001 });
    s.resume();
    const err = await new Promise<Error>((resolve) => s.once("error", resolve));
    expect(err.message).toMatch(/error forwarding port 7001/);
  });

  it("streams a fast 12 MB log with bounded buffering on both sides", async () => {
    const size = 12_000_000;
    const spec = await runPod(`yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefgh | head -c ${size}`);
    // wait until the container has written everything and exited
    await vi.waitFor(
      async () => {
        const st = await runtime.podStatus(spec.uid);
        expect(st?.containers[0]?.state).toHaveProperty("terminated");
      },
      { timeout: 30_000 },
    );
    const started = performance.now();
    const s = await mux.open(node, "logs", { ...target(spec), follow: true });
    // a stalled reader first: the hub buffer fills to one window and the agent stops there
    await vi.waitFor(() => expect(s.readableLength).toBeGreaterThanOrEqual(WINDOW - 64 * 1024), {
      timeout: 15_000,
    });
    expect(s.readableLength).toBeLessThanOrEqual(WINDOW);
    expect(lastAgentStream?.writableLength ?? 0).toBeLessThanOrEqual(128 * 1024);
    let bytes = 0;
    let agentPeak = 0;
    s.on("data", (c: Buffer) => {
      bytes += c.length;
      agentPeak = Math.max(agentPeak, lastAgentStream?.writableLength ?? 0);
    });
    await new Promise((r) => s.once("end", r));
    const seconds = (performance.now() - started) / 1000;
    expect(bytes).toBe(size);
    expect(s.peakBuffered).toBeLessThanOrEqual(WINDOW);
    // the agent holds at most its Writable buffer (one chunk) plus one in-flight Docker chunk
    expect(agentPeak).toBeLessThanOrEqual(128 * 1024);
    console.log(
      `[bench] log stream through MQTT: ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s = ${(bytes / 1e6 / seconds).toFixed(1)} MB/s; hub peak buffer ${s.peakBuffered} B, agent peak ${agentPeak} B`,
    );
  });
});
