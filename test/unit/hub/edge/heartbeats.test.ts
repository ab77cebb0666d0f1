import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import type { Client, ResourceRef } from "../../../../src/client/client.js";
import {
  FLUSH_BATCH,
  LEASE_NAMESPACE,
  LINK_LOST_MESSAGE,
  NodeHeartbeats,
} from "../../../../src/hub/edge/heartbeats.js";
import { silentLogger } from "../../../../src/lib/logger.js";

const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { code: 404 });

/** Nodes and Leases by "resource/name", every call counted per verb. */
function fakeStore(initial: KubeObject[]) {
  const objects = new Map<string, KubeObject>();
  const key = (ref: ResourceRef, name: string) => `${ref.resource}/${name}`;
  for (const o of initial) objects.set(`${o.kind === "Node" ? "nodes" : "leases"}/${o.metadata.name}`, o);
  const calls = { get: 0, mutate: 0, create: 0 };
  /** the options of every Lease mutate */
  const leaseOpts: unknown[] = [];
  const client = {
    get: async (ref: ResourceRef, _ns: unknown, name: string) => {
      calls.get++;
      return structuredClone(objects.get(key(ref, name)));
    },
    mutate: async (
      ref: ResourceRef,
      _ns: unknown,
      name: string,
      fn: (cur: KubeObject) => KubeObject,
      opts?: unknown,
    ) => {
      calls.mutate++;
      if (ref.resource === "leases") leaseOpts.push(opts);
      const cur = objects.get(key(ref, name));
      if (!cur) throw notFound(key(ref, name));
      const next = fn(structuredClone(cur));
      objects.set(key(ref, name), next);
      return next;
    },
    create: async (ref: ResourceRef, _ns: unknown, obj: KubeObject) => {
      calls.create++;
      const k = key(ref, obj.metadata.name ?? "");
      if (objects.has(k)) throw Object.assign(new Error(`${k} exists`), { code: 409 });
      objects.set(k, obj);
      return obj;
    },
  } as unknown as Client;
  return { client, objects, calls, leaseOpts };
}

const node = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Node", metadata: { name } });
const renewTime = (lease: KubeObject | undefined) =>
  (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
const ready = { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] };
const readyStatusOf = (o: KubeObject | undefined) =>
  ((o?.status as typeof ready | undefined)?.conditions ?? []).find((c) => c.type === "Ready")?.status;

describe("NodeHeartbeats", () => {
  it("creates a node's Lease at its first renewal and renews it by mutate alone, without a read first", async () => {
    const f = fakeStore([node("n1")]);
    let t = Date.parse("2026-11-26T10:00:00Z");
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger(), now: () => new Date(t) });
    hb.renew("n1");
    await hb.flush();
    expect(f.calls.create).toBe(1);
    expect(f.objects.get("leases/n1")?.metadata.namespace).toBe(LEASE_NAMESPACE);
    t += 15_000;
    hb.renew("n1");
    await hb.flush();
    expect(renewTime(f.objects.get("leases/n1"))).toBe("2026-11-26T10:00:15.000000Z");
    expect(f.calls).toEqual({ get: 0, mutate: 2, create: 1 });
    // the hub builds every value of a renewal: the store's owned-fields path (no validation pass)
    expect(f.leaseOpts).toEqual([{ ownedFields: true }, { ownedFields: true }]);
  });

  it("renews a Lease that already exists (hub restarted) without creating it", async () => {
    const lease: KubeObject = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "n1", namespace: LEASE_NAMESPACE },
      spec: { holderIdentity: "n1", renewTime: "2026-11-26T09:00:00.000000Z" },
    };
    const f = fakeStore([node("n1"), lease]);
    const hb = new NodeHeartbeats({
      client: f.client,
      logger: silentLogger(),
      now: () => new Date("2026-11-26T10:00:00Z"),
    });
    hb.renew("n1");
    await hb.flush();
    expect(f.calls).toEqual({ get: 0, mutate: 1, create: 0 });
    expect(renewTime(f.objects.get("leases/n1"))).toBe("2026-11-26T10:00:00.000000Z");
  });

  it("forgets a node whose Node was deleted, so fleet turnover does not accumulate state", async () => {
    const f = fakeStore([node("kept")]);
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger() });
    await hb.reportStatus("kept", ready);
    await hb.reportStatus("gone-1", ready);
    await hb.linkLost("gone-2");
    expect(hb.tracked).toBe(1);
    // a kept node stays tracked across a lost link (its status is restored on reconnect)
    await hb.linkLost("kept");
    expect(hb.tracked).toBe(1);
    await hb.linkRestored("kept");
    await hb.flush();
    const conditions = (f.objects.get("nodes/kept")?.status as typeof ready | undefined)?.conditions ?? [];
    expect(conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("writes one flush's renewals together in name order, FLUSH_BATCH in flight, and keeps a failed one for the next flush", async () => {
    // joined in an order unlike the names' (as a real fleet joins)
    const names = Array.from({ length: 1_200 }, (_, i) => `n${(i * 7919) % 1_200}`);
    const sorted = [...names].sort();
    const order: string[] = [];
    const f = fakeStore(names.map(node));
    const base = f.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    let inFlight = 0;
    let maxInFlight = 0;
    let failOnce = "";
    const mutate = base.mutate!;
    base.mutate = async (...a: unknown[]) => {
      order.push(a[2] as string);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // a store write completes in a later turn (group commit flushes on setImmediate)
      await new Promise((r) => setImmediate(r));
      inFlight--;
      if (a[2] === failOnce) {
        failOnce = "";
        throw new Error("database is locked");
      }
      return mutate(...a);
    };
    let t = Date.parse("2026-11-26T10:00:00Z");
    const hb = new NodeHeartbeats({
      client: f.client,
      logger: silentLogger(),
      now: () => new Date(t),
      connected: () => names,
    });
    // first renewals create the Leases (one by one, as each node connects)
    for (const n of names) hb.renew(n);
    await hb.flush();
    expect(f.calls.create).toBe(1_200);
    maxInFlight = 0;
    order.length = 0;
    failOnce = sorted[7]!;
    t += 15_000;
    await hb.flush();
    expect(maxInFlight).toBe(FLUSH_BATCH);
    // by name: a batch of neighbours dirties few pages of the store's name index
    expect(order).toEqual(sorted.slice(0, FLUSH_BATCH));
    // the 8th name's renewal failed and ended that flush after its batch: the rest of the fleet is renewed
    // at the next one, that one included
    const renewed = () =>
      names.filter((n) => renewTime(f.objects.get(`leases/${n}`)) === "2026-11-26T10:00:15.000000Z");
    expect(renewed().length).toBe(FLUSH_BATCH - 1);
    await hb.flush();
    expect(renewed().length).toBe(1_200);
  });
});

describe("NodeHeartbeats after a hub restart", () => {
  it("renews a reconnected node's Lease at every flush even when this hub never had its status", async () => {
    // a restarted hub: the node's status was reported to the previous process, so this one
    // has none in memory when the link drops and comes back
    const f = fakeStore([{ ...node("n1"), status: ready }]);
    let t = Date.parse("2026-11-26T10:00:00Z");
    let connected: string[] = ["n1"];
    const hb = new NodeHeartbeats({
      client: f.client,
      logger: silentLogger(),
      now: () => new Date(t),
      connected: () => connected,
    });
    await hb.flush();
    expect(renewTime(f.objects.get("leases/n1"))).toBe("2026-11-26T10:00:00.000000Z");
    connected = [];
    await hb.linkLost("n1");
    t += 60_000;
    connected = ["n1"];
    await hb.linkRestored("n1");
    await hb.flush();
    expect(renewTime(f.objects.get("leases/n1"))).toBe("2026-11-26T10:01:00.000000Z");
    for (let i = 1; i <= 3; i++) {
      t += 15_000;
      await hb.flush();
      expect(renewTime(f.objects.get("leases/n1"))).toBe(new Date(t).toISOString().replace("Z", "000Z"));
    }
  });

  it("restores the conditions its link-loss mark hid, for a node it has no report of", async () => {
    const readyNode: KubeObject = {
      ...node("n1"),
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "kubelet is posting ready status",
          },
          { type: "DiskPressure", status: "True", reason: "KubeletHasDiskPressure", message: "disk full" },
        ],
      },
    };
    const f = fakeStore([readyNode]);
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger(), connected: () => [] });
    const conditions = () => (f.objects.get("nodes/n1")!.status as typeof ready).conditions;
    await hb.linkLost("n1");
    expect(conditions().map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "Unknown", "NodeStatusUnknown"],
      ["DiskPressure", "Unknown", "NodeStatusUnknown"],
    ]);
    await hb.linkRestored("n1");
    // what the node said before, pressure included: not a guess
    expect(conditions().map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "True", "KubeletReady"],
      ["DiskPressure", "True", "KubeletHasDiskPressure"],
    ]);
  });

  it("undoes a link-loss mark an earlier hub process wrote when the node reconnects", async () => {
    const marked: KubeObject = {
      ...node("n1"),
      status: {
        conditions: [
          { type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message: LINK_LOST_MESSAGE },
          {
            type: "MemoryPressure",
            status: "Unknown",
            reason: "NodeStatusUnknown",
            message: LINK_LOST_MESSAGE,
          },
          { type: "NetworkUnavailable", status: "False", reason: "RouteCreated" },
        ],
      },
    };
    const f = fakeStore([marked]);
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger(), connected: () => ["n1"] });
    await hb.linkRestored("n1");
    const conditions = (f.objects.get("nodes/n1")!.status as typeof ready).conditions;
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "True", "KubeletReady"],
      ["MemoryPressure", "False", "KubeletHasSufficientMemory"],
      ["NetworkUnavailable", "False", "RouteCreated"],
    ]);
    // looked for once per hub process: a later reconnect does not read the Node again
    const calls = { ...f.calls };
    await hb.linkRestored("n1");
    expect(f.calls).toEqual(calls);
  });

  it("leaves a node that was not Ready before its link dropped Unknown until it reports", async () => {
    const notReady: KubeObject = {
      ...node("n1"),
      status: {
        conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady", message: "runtime down" }],
      },
    };
    const f = fakeStore([notReady]);
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger(), connected: () => ["n1"] });
    await hb.linkLost("n1");
    await hb.linkRestored("n1");
    const conditions = (f.objects.get("nodes/n1")!.status as typeof ready).conditions;
    expect(conditions.map((c) => [c.type, c.status])).toEqual([["Ready", "Unknown"]]);
  });

  it("writes reconnected nodes' statuses back once the reconnects pause", async () => {
    const names = ["a", "b", "c"];
    const f = fakeStore(names.map((n) => ({ ...node(n), status: ready })));
    const hb = new NodeHeartbeats({
      client: f.client,
      logger: silentLogger(),
      connected: () => [],
      restoreQuietMs: 200,
    });
    for (const n of names) await hb.linkLost(n);
    const readyOf = (n: string) => readyStatusOf(f.objects.get(`nodes/${n}`));
    expect(names.map(readyOf)).toEqual(["Unknown", "Unknown", "Unknown"]);
    const back = names.map((n) => hb.linkRestored(n));
    // inside the quiet window nothing is written: the reconnect burst goes first
    await new Promise((r) => setTimeout(r, 50));
    expect(names.map(readyOf)).toEqual(["Unknown", "Unknown", "Unknown"]);
    await Promise.all(back);
    expect(names.map(readyOf)).toEqual(["True", "True", "True"]);
  });

  it("writes a pending restore when stopped", async () => {
    const f = fakeStore([{ ...node("a"), status: ready }]);
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger(), restoreQuietMs: 60_000 });
    await hb.linkLost("a");
    const back = hb.linkRestored("a");
    await hb.stop();
    await back;
    expect(readyStatusOf(f.objects.get("nodes/a"))).toBe("True");
  });

  it("keeps the status it holds when a report differs only in times, and takes a changed one", async () => {
    const f = fakeStore([node("a")]);
    const hb = new NodeHeartbeats({ client: f.client, logger: silentLogger(), restoreQuietMs: 0 });
    const report = (reason: string, heartbeat: string) => ({
      capacity: { cpu: "4" },
      conditions: [{ type: "Ready", status: "True", reason, lastHeartbeatTime: heartbeat }],
    });
    await hb.reportStatus("a", report("KubeletReady", "2026-01-01T00:00:00Z"));
    expect(f.calls.mutate).toBe(1);
    const same = report("KubeletReady", "2026-01-01T01:00:00Z");
    await hb.reportStatus("a", same);
    expect(f.calls.mutate).toBe(1);
    // what the hub holds (and writes back after a link loss) is the first object, not this one:
    // a change made to the second report after the fact does not reach the Node
    same.capacity.cpu = "64";
    await hb.linkLost("a");
    await hb.linkRestored("a");
    await hb.stop();
    const statusOf = () =>
      (f.objects.get("nodes/a")?.status ?? {}) as { capacity?: { cpu?: string } } & typeof ready;
    const capacityOf = () => statusOf().capacity?.cpu;
    expect(readyStatusOf(f.objects.get("nodes/a"))).toBe("True");
    expect(capacityOf()).toBe("4");
    const mutatesBefore = f.calls.mutate;
    await hb.reportStatus("a", report("KubeletHasSufficientMemory", "2026-01-01T02:00:00Z"));
    expect(f.calls.mutate).toBe(mutatesBefore + 1);
    expect(statusOf().conditions.find((c) => c.type === "Ready")?.reason).toBe("KubeletHasSufficientMemory");
  });
});
