/**
 * Hub restart with a joined agent: stop the hub, start it again on the same data dir and ports;
 * the agent reconnects on its own, resyncs from its watermark (snapshot, since the hub's change
 * history is in memory), and nothing is lost or applied twice — including status the agent
 * reported while the hub was down.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { builtinResources } from "../../../../src/hub/apiserver/builtin-resources.js";
import { ObjectStore } from "../../../../src/hub/apiserver/object-store.js";
import { ResourceRegistry } from "../../../../src/hub/apiserver/registry.js";
import { SqliteBackend } from "../../../../src/hub/store/index.js";
import { joinSimAgent } from "../../../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { hasKubectl, need } from "../../../helpers/prereq.js";
import { uniqueNode } from "../../../helpers/transport-fixture.js";

const WAIT = { timeout: 20_000, interval: 50 };

function pod(name: string, node: string, cm?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      nodeName: node,
      containers: [{ name: "c", image: "busybox" }],
      ...(cm ? { volumes: [{ name: "v", configMap: { name: cm } }] } : {}),
    },
  };
}

describe.skipIf(!need(hasKubectl()))("hub restart", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("the agent resyncs after a hub restart with nothing lost or duplicated", async () => {
    let h: TestHub = await startHub();
    const dataDir = h.dataDir;
    cleanup.push(() => h.stop());
    const a = await joinSimAgent(h.hub, dataDir, "rs");
    const node = a.node;
    cleanup.push(() => a.stop());
    await a.start();

    const ns = uniqueNode("ns");
    let c = h.hub.client!;
    await c.create(refs.namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    await c.create(refs.configmaps, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: {},
    });
    await c.create(refs.pods, ns, pod("p1", node, "cfg"));
    await c.create(refs.pods, ns, pod("p2", node));
    const want = [`core/configmaps/${ns}/cfg`, `core/pods/${ns}/p1`, `core/pods/${ns}/p2`];
    await vi.waitFor(() => expect(a.keys()).toEqual(expect.arrayContaining(want)), WAIT);
    const snapshotsBefore = a.sink.snapshots;

    const httpsPort = Number(new URL(h.hub.url).port);
    const mqttPort = h.hub.mqttAddress.port;
    await h.stop({ keepData: true });
    await vi.waitFor(() => expect(a.link.connected).toBe(false), WAIT);

    // an edit made to the store while the hub is down (an offline restore, say): the hub's
    // in-memory history cannot cover it, so the agent must get a snapshot carrying it
    const offline = new SqliteBackend({ path: join(dataDir, "state.db"), compactIntervalMs: 0 });
    await offline.start();
    const cmInfo = new ResourceRegistry(builtinResources()).byKind("", "ConfigMap")!;
    await new ObjectStore({ backend: offline }).guaranteedUpdate(cmInfo, ns, "cfg", (cur) => ({
      ...cur,
      data: { k: "offline" },
    }));
    await offline.stop();

    // status reported while the hub is down waits in the agent's outbox
    const p2rv = Number(a.sink.objects.get(`core/pods/${ns}/p2`)!.object.metadata.resourceVersion);
    a.agent.reportStatus(`pod/${ns}/p2`, { phase: "Failed", reason: "Offline", containerStatuses: [] }, p2rv);

    h = await startHub({ dataDir, httpsPort, mqttPort });
    c = h.hub.client!;
    await vi.waitFor(() => {
      expect(a.link.connected).toBe(true);
      expect(a.sink.snapshots).toBeGreaterThan(snapshotsBefore);
    }, WAIT);
    expect(a.keys()).toEqual(expect.arrayContaining([...want, `core/nodes/${node}`]));
    expect(a.sink.objects.get(`core/configmaps/${ns}/cfg`)!.object.data).toEqual({ k: "offline" });
    for (const name of ["p1", "p2"]) {
      const stored = (await c.get(refs.pods, ns, name))!;
      expect(a.sink.objects.get(`core/pods/${ns}/${name}`)!.object.metadata.uid).toBe(stored.metadata.uid);
    }
    await vi.waitFor(async () => {
      const p2 = (await c.get(refs.pods, ns, "p2"))!;
      expect((p2.status as { phase?: string }).phase).toBe("Failed");
    }, WAIT);

    // after the resync, deltas flow again: a new pod arrives, a removed pod and its ConfigMap leave
    await c.create(refs.pods, ns, pod("p3", node));
    await c.delete(refs.pods, ns, "p1", { gracePeriodSeconds: 0 });
    await vi.waitFor(() => {
      const keys = a.keys();
      expect(keys).toContain(`core/pods/${ns}/p3`);
      expect(keys).not.toContain(`core/pods/${ns}/p1`);
      expect(keys).not.toContain(`core/configmaps/${ns}/cfg`);
    }, WAIT);
    const stored = await c.list(refs.pods, ns);
    const mine = stored.items.filter((p) => (p.spec as { nodeName?: string }).nodeName === node);
    expect(a.keys().filter((k) => k.startsWith(`core/pods/${ns}/`))).toEqual(
      mine.map((p) => `core/pods/${ns}/${p.metadata.name}`).sort(),
    );
    for (const p of mine) {
      expect(a.sink.objects.get(`core/pods/${ns}/${p.metadata.name}`)!.object.metadata.resourceVersion).toBe(
        p.metadata.resourceVersion,
      );
    }
    const puts = a.sink.applied.filter((x) => x.startsWith("put"));
    expect(new Set(puts).size).toBe(puts.length);
  });

  it("after a hub restart, a node whose link drops and returns is Ready again and its Lease keeps being renewed", async () => {
    // the restarted hub has no status report of the node (agents report on change and hourly):
    // the link-lost mark and the reconnect must still leave a live node Ready with a fresh Lease
    const flush = { leaseFlushIntervalMs: 300 };
    let h: TestHub = await startHub(flush);
    const dataDir = h.dataDir;
    cleanup.push(() => h.stop());
    const httpsPort = Number(new URL(h.hub.url).port);
    const mqttPort = h.hub.mqttAddress.port;
    const a = await joinSimAgent(h.hub, dataDir, "rl");
    const node = a.node;
    cleanup.push(() => a.stop());
    await a.start();
    await vi.waitFor(() => expect(a.link.connected).toBe(true), WAIT);

    await h.stop({ keepData: true });
    h = await startHub({ dataDir, httpsPort, mqttPort, ...flush });
    const c = () => h.hub.client!;
    const onHub = () => h.hub.edgeService.broker.connectedNodes().includes(node);
    await vi.waitFor(() => expect(onHub()).toBe(true), WAIT);
    const ready = async () => {
      const n = await c().get(refs.nodes, undefined, node);
      return (
        (n?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
      ).find((x) => x.type === "Ready")?.status;
    };
    const renewTime = async () =>
      ((await c().get(refs.leases, "kube-node-lease", node))?.spec as { renewTime?: string } | undefined)
        ?.renewTime;

    await a.link.stop();
    await vi.waitFor(async () => expect(await ready()).toBe("Unknown"), WAIT);
    await a.link.start();
    await vi.waitFor(() => expect(onHub()).toBe(true), WAIT);
    await vi.waitFor(async () => expect(await ready()).toBe("True"), WAIT);
    // renewed at flush after flush, not once at the reconnect and then never again
    const seen = new Set<string>();
    await vi.waitFor(async () => {
      seen.add((await renewTime()) ?? "");
      expect(seen.size).toBeGreaterThanOrEqual(4);
    }, WAIT);
  });

  it("an agent offline while its set changed gets a delta on reconnect (no snapshot)", async () => {
    const h = await startHub();
    cleanup.push(() => h.stop());
    const a = await joinSimAgent(h.hub, h.dataDir, "dl");
    const node = a.node;
    cleanup.push(() => a.stop());
    await a.start();
    const c = h.hub.client!;
    const ns = uniqueNode("ns");
    await c.create(refs.namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
    await c.create(refs.configmaps, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "old-cm" },
      data: {},
    });
    await c.create(refs.pods, ns, pod("gone", node, "old-cm"));
    // written long before a pod names it, and older than the agent's watermark (the Service
    // below moves the watermark past it): it must still reach the agent when a pod needs it
    await c.create(refs.configmaps, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "new-cm" },
      data: {},
    });
    await c.create(refs.services, ns, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "bump" },
      spec: { ports: [{ port: 80 }] },
    });
    await vi.waitFor(() => {
      expect(a.keys()).toContain(`core/pods/${ns}/gone`);
      expect(a.keys()).toContain(`core/services/${ns}/bump`);
    }, WAIT);
    const snapshots = a.sink.snapshots;

    await a.link.stop();
    await c.delete(refs.pods, ns, "gone", { gracePeriodSeconds: 0 });
    await c.create(refs.pods, ns, pod("new", node, "new-cm"));
    await a.link.start();

    await vi.waitFor(() => {
      const keys = a.keys();
      expect(keys).toContain(`core/pods/${ns}/new`);
      expect(keys).toContain(`core/configmaps/${ns}/new-cm`);
      expect(keys).not.toContain(`core/pods/${ns}/gone`);
      expect(keys).not.toContain(`core/configmaps/${ns}/old-cm`);
    }, WAIT);
    expect(a.sink.snapshots).toBe(snapshots);
  });
});
