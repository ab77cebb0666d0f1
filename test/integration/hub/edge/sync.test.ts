/**
 * The hub's node sync end to end: a real hub (store, broker, SyncHub over the desired index),
 * and a simulated agent joined through /cacerts + /edgekube/v1/join running a real EdgeLink +
 * SyncAgent with an in-memory desired set.
 */
import { connect } from "mqtt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { LINK_LOST_MESSAGE } from "../../../../src/hub/edge/heartbeats.js";
import { joinSimAgent, linkCredentials, type SimAgent } from "../../../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { hasKubectl, need } from "../../../helpers/prereq.js";
import { uniqueNode } from "../../../helpers/transport-fixture.js";

const WAIT = { timeout: 15_000, interval: 50 };

describe.skipIf(!need(hasKubectl()))("hub node sync", () => {
  let h: TestHub;
  const agents: SimAgent[] = [];
  beforeAll(async () => {
    h = await startHub({ leaseFlushIntervalMs: 60_000 });
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await h.stop();
  });

  async function agent(opts: { websocket?: boolean; heartbeatMs?: number } = {}): Promise<SimAgent> {
    const a = await joinSimAgent(h.hub, h.dataDir, "sync", opts);
    agents.push(a);
    await a.start();
    await vi.waitFor(() => expect(a.sink.watermark()).toBeGreaterThan(0), WAIT);
    return a;
  }

  async function namespace(): Promise<string> {
    const name = uniqueNode("ns");
    await h.hub.client!.create(refs.namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
    return name;
  }

  function pod(name: string, node: string | undefined, spec: Record<string, unknown> = {}): KubeObject {
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: "c", image: "busybox" }], ...spec },
    };
  }

  it("delivers the node's pods and what they reference (1 MiB Secret intact), not other nodes' pods", async () => {
    const a = await agent();
    const ns = await namespace();
    const c = h.hub.client!;
    const big = Buffer.alloc(1024 * 1024, 7).toString("base64");
    await c.create(refs.configmaps, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { k: "v" },
    });
    await c.create(refs.secrets, ns, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "big" },
      data: { blob: big },
    });
    await c.create(refs.secrets, ns, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "unused" },
      data: {},
    });
    await c.create(refs.services, ns, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc" },
      spec: { ports: [{ port: 80 }], selector: { app: "x" } },
    });
    await c.create(
      refs.pods,
      ns,
      pod("mine", a.node, {
        volumes: [{ name: "s", secret: { secretName: "big" } }],
        containers: [{ name: "c", image: "busybox", envFrom: [{ configMapRef: { name: "cfg" } }] }],
      }),
    );
    await c.create(refs.pods, ns, pod("elsewhere", "some-other-node"));
    // left for another scheduler, so the hub's scheduler does not bind it to this node
    await c.create(refs.pods, ns, pod("unbound", undefined, { schedulerName: "not-edgekube" }));

    await vi.waitFor(() => {
      expect(a.keys()).toEqual(
        expect.arrayContaining([
          `core/pods/${ns}/mine`,
          `core/configmaps/${ns}/cfg`,
          `core/secrets/${ns}/big`,
          `core/services/${ns}/svc`,
          `core/nodes/${a.node}`,
        ]),
      );
    }, WAIT);
    const keys = a.keys();
    expect(keys).not.toContain(`core/pods/${ns}/elsewhere`);
    expect(keys).not.toContain(`core/pods/${ns}/unbound`);
    expect(keys).not.toContain(`core/secrets/${ns}/unused`);
    const secret = a.sink.objects.get(`core/secrets/${ns}/big`)!.object as unknown as {
      data: { blob: string };
    };
    expect(secret.data.blob).toBe(big);
    const stored = (await c.get(refs.pods, ns, "mine"))!;
    expect(a.sink.objects.get(`core/pods/${ns}/mine`)!.object.metadata.resourceVersion).toBe(
      stored.metadata.resourceVersion,
    );

    // an update of a referenced ConfigMap reaches the node; the pod going away removes both
    await c.mutate(refs.configmaps, ns, "cfg", (cur) => ({ ...cur, data: { k: "v2" } }));
    await vi.waitFor(
      () =>
        expect(
          (a.sink.objects.get(`core/configmaps/${ns}/cfg`)?.object as { data?: object } | undefined)?.data,
        ).toEqual({ k: "v2" }),
      WAIT,
    );
    await c.delete(refs.pods, ns, "mine"); // graceful: waits for the agent
    await vi.waitFor(
      () =>
        expect(a.sink.objects.get(`core/pods/${ns}/mine`)?.object.metadata.deletionTimestamp).toBeTruthy(),
      WAIT,
    );
    const rv = Number(a.sink.objects.get(`core/pods/${ns}/mine`)!.object.metadata.resourceVersion);
    a.agent.reportStatus(`pod/${ns}/mine`, { phase: "Succeeded", containerStatuses: [] }, rv);
    await vi.waitFor(() => {
      expect(a.keys()).not.toContain(`core/pods/${ns}/mine`);
      expect(a.keys()).not.toContain(`core/configmaps/${ns}/cfg`);
      expect(a.keys()).not.toContain(`core/secrets/${ns}/big`);
    }, WAIT);
    expect(await c.get(refs.pods, ns, "mine")).toBeUndefined();
    const puts = a.sink.applied.filter((x) => x.startsWith("put"));
    expect(new Set(puts).size).toBe(puts.length);
  });

  it("writes pod status the agent reports (kubectl shows Running)", async () => {
    const a = await agent();
    const ns = await namespace();
    await h.hub.client!.create(refs.pods, ns, pod("web", a.node));
    await vi.waitFor(() => expect(a.keys()).toContain(`core/pods/${ns}/web`), WAIT);
    const rv = Number(a.sink.objects.get(`core/pods/${ns}/web`)!.object.metadata.resourceVersion);
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    a.agent.reportStatus(
      `pod/${ns}/web`,
      {
        phase: "Running",
        podIP: "10.42.1.5",
        hostIP: "198.51.100.7",
        startTime: at,
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [
          {
            name: "c",
            ready: true,
            restartCount: 0,
            image: "busybox",
            imageID: "",
            state: { running: { startedAt: at } },
          },
        ],
      },
      rv,
    );
    await vi.waitFor(async () => {
      const out = await h.kubectl(["get", "pod", "web", "-n", ns, "--no-headers"]);
      expect(out.stdout).toMatch(/^web\s+1\/1\s+Running\s+0\s/);
    }, WAIT);
    const stored = (await h.hub.client!.get(refs.pods, ns, "web"))!;
    expect((stored.status as { qosClass?: string }).qosClass).toBe("BestEffort");
  });

  it("node credentials cannot read another node's topics", async () => {
    const a = await agent();
    const b = await agent();
    await a.link.stop(); // the client id must equal the node name: free it for our raw client
    const client = connect(`mqtts://127.0.0.1:${h.hub.mqttAddress.port}`, {
      clientId: a.node,
      ca: a.joined.response.ca,
      ...linkCredentials(a.node, a.joined),
      reconnectPeriod: 0,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
      });
      await expect(client.subscribeAsync(`ek/v1/node/${b.node}/down/sync`, { qos: 1 })).rejects.toThrow(
        /Subscribe error/,
      );
      const own = await client.subscribeAsync(`ek/v1/node/${a.node}/down/sync`, { qos: 1 });
      expect(own[0]?.qos).toBe(1);
    } finally {
      await client.endAsync(true);
    }
  });

  it("coalesces heartbeats: beats every 200 ms do not write the store per beat", async () => {
    const a = await agent({ heartbeatMs: 200 });
    const lease = `lease/${a.node}`;
    a.agent.reportStatus(lease, { renewTime: new Date().toISOString() });
    await vi.waitFor(
      async () => expect(await h.hub.client!.get(refs.leases, "kube-node-lease", a.node)).toBeDefined(),
      WAIT,
    );
    const backend = h.hub.store!.backend;
    const before = backend.currentRevision();
    const beats = setInterval(
      () => a.agent.reportStatus(lease, { renewTime: new Date().toISOString() }),
      200,
    );
    try {
      await new Promise((r) => setTimeout(r, 3000)); // a window of ~15 beats, not a convergence wait
      await vi.waitFor(() => expect(a.outbox.size()).toBe(0), WAIT);
    } finally {
      clearInterval(beats);
    }
    expect(backend.currentRevision() - before).toBeLessThanOrEqual(2);
  });

  it("marks the node Ready=Unknown when its link is lost, and Ready again when it returns", async () => {
    const a = await agent();
    a.agent.reportStatus(`node/${a.node}`, {
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "ok" }],
    });
    await vi.waitFor(() => expect(a.outbox.size()).toBe(0), WAIT);
    await a.link.stop();
    await vi.waitFor(async () => {
      const n = (await h.hub.client!.get(refs.nodes, undefined, a.node))!;
      const ready = (
        n.status as { conditions: { type: string; status: string; reason: string; message: string }[] }
      ).conditions.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({
        status: "Unknown",
        reason: "NodeStatusUnknown",
        message: LINK_LOST_MESSAGE,
      });
    }, WAIT);
    await a.link.start();
    await vi.waitFor(async () => {
      const out = await h.kubectl(["get", "node", a.node, "--no-headers"]);
      expect(out.stdout).toMatch(new RegExp(`^${a.node}\\s+Ready\\s`));
    }, WAIT);
  });

  it("serves MQTT over secure WebSocket on the API port", async () => {
    const a = await agent({ websocket: true });
    expect(a.keys()).toContain(`core/nodes/${a.node}`);
  });
});
