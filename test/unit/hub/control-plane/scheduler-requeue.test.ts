/**
 * The scheduler retries a Pending pod blocked by other pods (required anti-affinity, pod
 * affinity) at once when those pods change: a placed pod relabelled, terminating or deleted.
 * The backoff is an hour, so only the event-driven retry can bind the pod within the poll.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import type { BindRequest, PodBinder } from "../../../../src/hub/scheduler/binding.js";
import { applyBinding } from "../../../../src/hub/scheduler/binding.js";
import { Scheduler } from "../../../../src/hub/scheduler/scheduler.js";
import { FakeClient } from "../../../helpers/fake-client.js";
import { controllerDeps } from "../../../helpers/fake-controller-deps.js";

const HOST = "kubernetes.io/hostname";
const HOUR = 3_600_000;

function node(name: string): KubeObject {
  return {
    kind: "Node",
    metadata: { name, labels: { [HOST]: name } },
    spec: {},
    status: {
      allocatable: { cpu: "2", memory: "2Gi", pods: "10" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

function pod(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    kind: "Pod",
    metadata: { name, namespace: "ns", uid: `u-${name}`, labels },
    spec: { containers: [{ name: "c", image: "i" }], ...extra },
    status: { phase: "Pending" },
  };
}

const term = (matchLabels: Record<string, string>) => [{ topologyKey: HOST, labelSelector: { matchLabels } }];
const avoid = (m: Record<string, string>) => ({
  affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term(m) } },
});
const near = (m: Record<string, string>) => ({
  affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term(m) } },
});

class FakeBinder implements PodBinder {
  readonly binds: string[] = [];
  constructor(private readonly client: FakeClient) {}
  async bind(r: BindRequest): Promise<void> {
    this.binds.push(`${r.namespace}/${r.name}->${r.node}`);
    const cur = (await this.client.get(refs.pods, r.namespace, r.name))!;
    this.client.seed(refs.pods, applyBinding(cur, r, new Date()));
  }
}

/** one node holding `blocker`, the pending pod `p`, a scheduler that has failed `p` once */
async function blocked(blocker: KubeObject, pending: KubeObject) {
  const c = new FakeClient();
  c.seed(refs.nodes, node("a"));
  c.seed(refs.pods, { ...blocker, spec: { ...(blocker.spec as object), nodeName: "a" } });
  c.seed(refs.pods, pending);
  const binder = new FakeBinder(c);
  const s = new Scheduler({ ...controllerDeps(c), binder, backoffMs: HOUR });
  await s.start();
  await expect
    .poll(() => c.objects(refs.events).find((e) => e.reason === "FailedScheduling")?.message)
    .toContain("1 node(s)");
  await s.idle();
  expect(binder.binds).toEqual([]);
  return { c, s, binder };
}

describe("scheduler: pending pods retried when the pods they depend on change", () => {
  it("anti-affinity: the blocking pod's label changes away → bound at once", async () => {
    const { c, s, binder } = await blocked(
      pod("db", { app: "db" }),
      pod("p", { app: "web" }, avoid({ app: "db" })),
    );
    await c.mutate(refs.pods, "ns", "db", (cur) => ({
      ...cur,
      metadata: { ...cur.metadata, labels: { app: "old" } },
    }));
    await expect.poll(() => binder.binds).toEqual(["ns/p->a"]);
    s.stop();
  });

  it("anti-affinity: the blocking pod is deleted → bound at once", async () => {
    const { c, s, binder } = await blocked(
      pod("db", { app: "db" }),
      pod("p", { app: "web" }, avoid({ app: "db" })),
    );
    await c.delete(refs.pods, "ns", "db");
    await expect.poll(() => binder.binds).toEqual(["ns/p->a"]);
    s.stop();
  });

  it("pod affinity: a placed pod gains the wanted label → bound at once", async () => {
    const { c, s, binder } = await blocked(
      pod("cache", { app: "other" }),
      pod("p", { app: "web" }, near({ app: "cache" })),
    );
    await c.mutate(refs.pods, "ns", "cache", (cur) => ({
      ...cur,
      metadata: { ...cur.metadata, labels: { app: "cache" } },
    }));
    await expect.poll(() => binder.binds).toEqual(["ns/p->a"]);
    s.stop();
  });

  it("a placed pod's status write (labels unchanged) does not retry the pending pod", async () => {
    const { c, s, binder } = await blocked(
      pod("db", { app: "db" }),
      pod("p", { app: "web" }, avoid({ app: "db" })),
    );
    // every FailedScheduling records (or bumps) an event: count the event writes
    const failures = () => c.verbs().filter((v) => / events /.test(v)).length;
    const before = failures();
    expect(before).toBeGreaterThan(0);
    await c.mutate(refs.pods, "ns", "db", (cur) => ({ ...cur, status: { phase: "Running" } }), {
      status: true,
    });
    await s.idle();
    // still blocked and not re-decided: no new FailedScheduling event was attempted
    expect(binder.binds).toEqual([]);
    expect(failures()).toBe(before);
    s.stop();
  });
});
