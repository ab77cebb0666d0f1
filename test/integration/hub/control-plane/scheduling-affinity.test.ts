/**
 * Inter-pod anti-affinity and topology spreading on a running hub (real SQLite store, the
 * Deployment/ReplicaSet controllers and the scheduler) with three simulated nodes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { KubeletSim } from "../../../helpers/kubelet-sim.js";

const ZONE = "topology.kubernetes.io/zone";
const NODES = ["aff-n1", "aff-n2", "aff-n3"];
const WAIT = { timeout: 20_000, interval: 100 };

let t: TestHub;
let sim: KubeletSim;

beforeAll(async () => {
  t = await startHub();
  sim = new KubeletSim(t.hub.client!, { leaseRenewMs: 500 });
  await sim.start();
  await sim.addNode({ name: "aff-n1", labels: { [ZONE]: "aff-z1" } });
  await sim.addNode({ name: "aff-n2", labels: { [ZONE]: "aff-z1" } });
  await sim.addNode({ name: "aff-n3", labels: { [ZONE]: "aff-z2" } });
});

afterAll(async () => {
  sim?.stop();
  await t?.stop();
});

function deployment(name: string, replicas: number, podSpec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "busybox" }], ...podSpec },
      },
    },
  };
}

interface PodView {
  name: string;
  node: string | undefined;
  phase: string | undefined;
  scheduled: { status?: string; reason?: string; message?: string } | undefined;
}

async function podsOf(ns: string, app: string): Promise<PodView[]> {
  const l = await t.hub.client!.list(refs.pods, ns);
  return l.items
    .filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp)
    .map((p) => {
      const st = (p.status ?? {}) as {
        phase?: string;
        conditions?: { type: string; status?: string; reason?: string; message?: string }[];
      };
      return {
        name: p.metadata.name ?? "",
        node: (p.spec as { nodeName?: string }).nodeName,
        phase: st.phase,
        scheduled: st.conditions?.find((c) => c.type === "PodScheduled"),
      };
    });
}

async function namespace(name: string): Promise<void> {
  await t.hub.client!.create(refs.namespaces, undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
}

describe("pod anti-affinity and topology spreading on a running hub", () => {
  it("3 replicas with required anti-affinity on the hostname land on 3 nodes; a 4th stays Pending", async () => {
    const c = t.hub.client!;
    const ns = "it-anti";
    await namespace(ns);
    await c.create(
      refs.deployments,
      ns,
      deployment("web", 3, {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "web" } } },
            ],
          },
        },
      }),
    );
    await vi.waitFor(async () => {
      const pods = await podsOf(ns, "web");
      expect(pods.map((p) => p.phase)).toEqual(["Running", "Running", "Running"]);
      expect(pods.map((p) => p.node).sort()).toEqual(NODES);
    }, WAIT);

    await c.mutate(refs.deployments, ns, "web", (d) => ({
      ...d,
      spec: { ...(d.spec as object), replicas: 4 },
    }));
    const want =
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
    let pending = "";
    await vi.waitFor(async () => {
      const pods = await podsOf(ns, "web");
      expect(pods).toHaveLength(4);
      const p = pods.find((x) => !x.node);
      expect(p?.scheduled).toMatchObject({ status: "False", reason: "Unschedulable", message: want });
      pending = p?.name ?? "";
    }, WAIT);
    await vi.waitFor(async () => {
      const events = await c.list(refs.events, ns);
      const ev = events.items.find(
        (e) =>
          e.reason === "FailedScheduling" &&
          (e.involvedObject as { name?: string } | undefined)?.name === pending,
      );
      expect(ev).toMatchObject({ type: "Warning", message: want });
    }, WAIT);
    // the three placed replicas are untouched
    expect(
      (await podsOf(ns, "web"))
        .filter((p) => p.node)
        .map((p) => p.node)
        .sort(),
    ).toEqual(NODES);

    // scaling back to 3 removes the pending one first; nothing stays unschedulable
    await c.mutate(refs.deployments, ns, "web", (d) => ({
      ...d,
      spec: { ...(d.spec as object), replicas: 3 },
    }));
    await vi.waitFor(async () => {
      const pods = await podsOf(ns, "web");
      expect(pods.map((p) => p.node).sort()).toEqual(NODES);
    }, WAIT);
  });

  it("DoNotSchedule spreading over zones (maxSkew 1) puts 3 of 6 replicas on the lone node of the second zone", async () => {
    const c = t.hub.client!;
    const ns = "it-spread";
    await namespace(ns);
    await c.create(
      refs.deployments,
      ns,
      deployment("spread", 6, {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: ZONE,
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchLabels: { app: "spread" } },
          },
        ],
      }),
    );
    await vi.waitFor(async () => {
      const pods = await podsOf(ns, "spread");
      expect(pods.filter((p) => p.phase === "Running")).toHaveLength(6);
      // zones 3/3 (plain spreading by owner would give every node 2)
      expect(pods.filter((p) => p.node === "aff-n3")).toHaveLength(3);
    }, WAIT);
  });
});
