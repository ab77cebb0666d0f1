/**
 * Real kubectl 1.32 against an in-process hub whose pod stream endpoints and metrics.k8s.io are
 * wired to a real aedes broker, with an agent-side StreamServer on a real mqtt.js link running
 * pods on the real dockerd: logs, exec (exit codes, stdin, tty), cp, port-forward, top.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../src/api/object.js";
import { DockerRuntime } from "../../src/edge-agent/runtime/index.js";
import { agentStreamHandlers, MetricsReporter } from "../../src/edge-agent/streams/index.js";
import { MetricsStore, metricsApi } from "../../src/hub/metrics/index.js";
import { podStreams } from "../../src/hub/streams/index.js";
import { silentLogger } from "../../src/lib/logger.js";
import { StreamMux, StreamServer } from "../../src/transport/streams/index.js";
import { startHub, type TestHub } from "../helpers/hub.js";
import { ensureBusyboxImage } from "../helpers/images.js";
import { removePodContainers } from "../helpers/pod-containers.js";
import { hasDocker, hasKubectl, hasRoot, need } from "../helpers/prereq.js";
import { Fixture, uniqueNode } from "../helpers/transport-fixture.js";

const ok = need(hasDocker(), hasRoot(), hasKubectl());
const POD_REF = { group: "", version: "v1", resource: "pods" };
const NODE_REF = { group: "", version: "v1", resource: "nodes" };

describe.skipIf(!ok)("kubectl logs/exec/cp/port-forward/top through the hub and MQTT", () => {
  let t: TestHub;
  let fx: Fixture;
  let node: string;
  let reporter: MetricsReporter;
  const docker = new Docker();
  const image = ok ? ensureBusyboxImage() : "";
  const runtime = new DockerRuntime({ docker, sandboxImage: image });
  const uids: string[] = [];
  const children: ChildProcess[] = [];
  const home = mkdtempSync(join(tmpdir(), "ek-streams-e2e-"));

  /** creates a pod in the API bound to our node, runs it in Docker under the same uid, marks it Running */
  async function runPod(name: string, script: string): Promise<void> {
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", labels: { app: name } },
      spec: { nodeName: node, containers: [{ name: "c", image, command: ["sh", "-c", script] }] },
    };
    await t.kubectl(["apply", "-f", "-"], { input: JSON.stringify(manifest) });
    const pod = (await t.hub.client!.get(POD_REF, "default", name))!;
    const uid = pod.metadata.uid!;
    uids.push(uid);
    await runtime.runPod({
      uid,
      name,
      namespace: "default",
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "c", image, command: ["sh", "-c", script] }],
    });
    const fresh = (await t.hub.client!.get(POD_REF, "default", name))!;
    await t.hub.client!.updateStatus(POD_REF, "default", {
      ...fresh,
      status: { phase: "Running", podIP: "10.42.0.9", containerStatuses: [] },
    } as KubeObject);
  }

  function spawnKubectl(args: string[]): { child: ChildProcess; out: () => string } {
    const child = spawn(
      "/usr/bin/kubectl",
      ["--kubeconfig", t.kubeconfig, "--cache-dir", join(home, "cache"), ...args],
      {
        env: { ...process.env, HOME: home },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    children.push(child);
    let out = "";
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    return { child, out: () => out };
  }

  beforeAll(async () => {
    fx = await Fixture.create();
    const broker = await fx.broker();
    node = uniqueNode("e2e-streams");
    const link = await fx.link(node, broker.address().port);
    await vi.waitFor(() => expect(link.connected).toBe(true), { timeout: 15_000 });
    const mux = new StreamMux({ channel: broker });
    await mux.start();
    fx.defer(() => mux.stop());
    const metrics = new MetricsStore({ source: broker, logger: silentLogger() });
    await metrics.start();
    fx.defer(() => metrics.stop());
    t = await startHub({
      apiExtensions: ({ store, registry }) => {
        const podInfo = registry.byKind("", "Pod")!;
        const streams = podStreams({
          mux,
          getPod: (ns, name) => store.tryGet(podInfo, ns, name),
          logger: silentLogger(),
        });
        const labelsOf = async (kind: "nodes" | "pods", ns?: string) => {
          const list = await t.hub.client!.list(kind === "nodes" ? NODE_REF : POD_REF, ns);
          return new Map(
            list.items.map((o) => [
              ns || kind === "nodes" ? o.metadata.name! : `${o.metadata.namespace}/${o.metadata.name}`,
              o.metadata.labels ?? {},
            ]),
          );
        };
        return { ...streams, extraApis: [metricsApi(metrics, labelsOf)] };
      },
    });
    const server = new StreamServer({ channel: link, handlers: agentStreamHandlers({ runtime, docker }) });
    await server.start();
    fx.defer(() => server.stop());
    reporter = new MetricsReporter({ channel: link, runtime, docker });
    await reporter.start();
    fx.defer(() => reporter.stop());
    await t.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: node, labels: { role: "edge" } },
      }),
    });
    const n = (await t.hub.client!.get(NODE_REF, undefined, node))!;
    await t.hub.client!.updateStatus(NODE_REF, undefined, {
      ...n,
      status: {
        capacity: { cpu: "2", memory: "4Gi", pods: "110" },
        allocatable: { cpu: "2", memory: "4Gi", pods: "110" },
      },
    } as KubeObject);
    await runPod(
      "web",
      '(while true; do nc -l -p 7000 -e cat; done) & i=0; while true; do echo "hello $i"; i=$((i+1)); sleep 0.3; done',
    );
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await fx?.cleanup();
    await t?.stop();
    for (const uid of uids) {
      await removePodContainers(docker, uid);
    }
    rmSync(home, { recursive: true, force: true });
  });

  it("kubectl logs: plain, --tail, --timestamps, -f, and the container-name error", async () => {
    await vi.waitFor(async () => expect((await t.kubectl(["logs", "web"])).stdout).toContain("hello 2"), {
      timeout: 15_000,
    });
    const tail = await t.kubectl(["logs", "web", "--tail=1", "-c", "c"]);
    expect(tail.stdout.trim().split("\n")).toHaveLength(1);
    const ts = await t.kubectl(["logs", "web", "--tail=1", "--timestamps"]);
    expect(ts.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hello \d+/);
    expect((await t.kubectl(["logs", "web", "--since=1h"])).stdout).toContain("hello 0");
    const limited = await t.kubectl(["logs", "web", "--limit-bytes=5"]);
    expect(limited.stdout).toBe("hello");
    const f = spawnKubectl(["logs", "-f", "web", "--tail=1"]);
    const first = await vi.waitFor(
      () => {
        const m = /hello (\d+)/.exec(f.out());
        expect(m).not.toBeNull();
        return Number(m![1]);
      },
      { timeout: 15_000 },
    );
    await vi.waitFor(() => expect(f.out()).toContain(`hello ${first + 2}`), { timeout: 15_000 });
    f.child.kill("SIGINT");
    await t.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "two", namespace: "default" },
        spec: {
          nodeName: node,
          containers: [
            { name: "a", image },
            { name: "b", image },
          ],
        },
      }),
    });
    // kubectl itself defaults to the first container; the API's own answer is upstream's
    const two = await t.kubectl(["get", "--raw", "/api/v1/namespaces/default/pods/two/log"], {
      allowFail: true,
    });
    expect(two.code).not.toBe(0);
    expect(two.stderr).toContain("a container name must be specified for pod two, choose one of: [a b]");
  });

  it("kubectl exec: output, stdin, exit codes and a tty", async () => {
    const r = await t.kubectl(["exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3"], {
      allowFail: true,
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err");
    const ok0 = await t.kubectl(["exec", "web", "--", "true"]);
    expect(ok0.code).toBe(0);
    const piped = await t.kubectl(["exec", "-i", "web", "--", "sh", "-c", "cat | wc -c"], { input: "12345" });
    expect(piped.stdout.trim()).toBe("5");
    // -it needs a terminal: script(1) gives kubectl a pseudo-terminal
    const cmd = `/usr/bin/kubectl --kubeconfig ${t.kubeconfig} --cache-dir ${join(home, "cache")} exec -it web -- sh -c 'tty; exit 4'`;
    const tty = spawn("script", ["-qec", cmd, "/dev/null"], {
      env: { ...process.env, HOME: home },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(tty);
    let out = "";
    tty.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const code = await new Promise<number | null>((resolve) => tty.once("exit", resolve));
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(code).toBe(4);
    const missing = await t.kubectl(["exec", "web", "-c", "nope", "--", "true"], { allowFail: true });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("container nope is not valid for pod web");
  });

  it("kubectl attach follows the main process output", async () => {
    const a = spawnKubectl(["attach", "web"]);
    const first = await vi.waitFor(
      () => {
        const m = /hello (\d+)/.exec(a.out());
        expect(m, a.out()).not.toBeNull();
        return Number(m![1]);
      },
      { timeout: 15_000 },
    );
    await vi.waitFor(() => expect(a.out()).toContain(`hello ${first + 1}`), { timeout: 15_000 });
    a.child.kill("SIGINT");
  });

  it("kubectl cp: upload and download through exec of tar", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ek-cp-"));
    try {
      const content = `edgekube ${"x".repeat(200_000)}\n`;
      writeFileSync(join(dir, "up.txt"), content);
      await t.kubectl(["cp", join(dir, "up.txt"), "default/web:/tmp/up.txt", "-c", "c"]);
      const size = await t.kubectl(["exec", "web", "--", "wc", "-c", "/tmp/up.txt"]);
      expect(size.stdout.trim()).toMatch(new RegExp(`^${content.length} `));
      await t.kubectl(["cp", "default/web:/tmp/up.txt", join(dir, "down.txt"), "-c", "c"]);
      expect(readFileSync(join(dir, "down.txt"), "utf8")).toBe(content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("kubectl port-forward: a TCP client reaches a listener in the pod", async () => {
    const pf = spawnKubectl(["port-forward", "pod/web", ":7000"]);
    const port = await vi.waitFor(
      () => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 7000/.exec(pf.out());
        expect(m, pf.out()).not.toBeNull();
        return Number(m![1]);
      },
      { timeout: 20_000 },
    );
    const echo = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, "127.0.0.1", () => sock.write("ping through kubectl\n"));
      let got = "";
      sock.on("data", (b) => {
        got += b.toString();
        if (got.endsWith("\n")) {
          sock.end();
          resolve(got);
        }
      });
      sock.on("error", (e) => reject(new Error(`${e.message}: ${pf.out()}`)));
    });
    expect(echo).toBe("ping through kubectl\n");
    pf.child.kill("SIGINT");
  });

  it("kubectl top node and top pod", async () => {
    await vi.waitFor(async () => expect(await reporter.reportOnce()).toBe(true), { timeout: 20_000 });
    await vi.waitFor(
      async () => {
        const nodes = await t.kubectl(["top", "node"], { allowFail: true });
        expect(nodes.stdout).toContain(node);
      },
      { timeout: 20_000 },
    );
    const pods = await t.kubectl(["top", "pod"]);
    expect(pods.stdout).toMatch(/NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    expect(pods.stdout).toMatch(/web\s+\d+m\s+\d+Mi/);
    const byLabel = await t.kubectl(["top", "pod", "-l", "app=web", "--containers"]);
    expect(byLabel.stdout).toMatch(/web\s+c\s+\d+m/);
  });
});
