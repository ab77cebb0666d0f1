/**
 * Hub restart without a snapshot: the hub's change history lives in memory, so after a restart
 * every agent's watermark is below its floor. A real agent offers the SetDigest its SQLite
 * cache keeps, and when its set is unchanged the hub confirms it with an empty delta instead of
 * resending the whole set (a fleet-wide snapshot storm otherwise). Counted with the agent's
 * sync counters (resumed = hello answered by a delta, refetched = by a snapshot). The other
 * half: a node whose set did change while it was away across a hub restart gets a snapshot,
 * and the change arrives.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { refs } from "../../../src/client/client.js";
import type { FaultAgent } from "../../helpers/fault-agent.js";
import { churnPod } from "../../helpers/fault-churn.js";
import { FaultRig } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

let rig: FaultRig;
afterEach(async () => {
  await rig.cleanup();
});

function stats(a: FaultAgent) {
  const s = a.agent?.syncStats();
  if (!s) throw new Error("the agent is not running");
  return s;
}

/** Pod names in the agent's cache, in the test namespace. */
function cachedPods(a: FaultAgent, ns: string): string[] {
  return (a.agent?.cache.pods() ?? [])
    .filter((p) => p.metadata?.namespace === ns)
    .map((p) => p.metadata?.name ?? "")
    .sort();
}

function storeRevision(r: FaultRig): number {
  const store = r.hub.h.hub.store;
  if (!store) throw new Error("the hub is down");
  return store.backend.currentRevision();
}

async function restartHub(r: FaultRig): Promise<void> {
  await r.hub.stop();
  await r.hub.start();
}

describe.skipIf(!need(hasKubectl()))("edge fault: hub restart, resumed by set digest", () => {
  it("an unchanged node resumes with a delta, not a snapshot; later changes still arrive", async () => {
    rig = new FaultRig();
    await rig.startHub();
    const proxy = await rig.proxy();
    const a = await rig.agent(proxy);
    const ns = rig.ns;
    for (const name of ["r-0", "r-1"])
      await rig.mustClient().create(refs.pods, ns, churnPod(name, a.node, "cm-0"));
    await vi.waitFor(() => expect(cachedPods(a, ns)).toEqual(["r-0", "r-1"]), { timeout: 20_000 });
    // quiet: the stand-in kubelet's status reports went up and came back down as pod updates
    await vi.waitFor(
      () => {
        expect(a.agent?.pendingStatus()).toBe(0);
        for (const name of ["r-0", "r-1"])
          expect(a.agent?.cache.pod(ns, name)?.status?.message).toMatch(/^g/);
      },
      { timeout: 20_000 },
    );
    expect(a.agent?.cache.configMap(ns, "cm-1")).toBeUndefined();

    // writes outside this node's set (other nodes' leases and status do this all the time): the
    // store moves past the agent's watermark, so the restarted hub cannot answer from history
    await rig.mustClient().create(refs.configmaps, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "unrelated" },
      data: { v: "1" },
    });
    expect(storeRevision(rig)).toBeGreaterThan(a.agent?.watermark() ?? Infinity);
    const before = stats(a);
    const applied = a.applied.size;
    await rig.hub.stop();
    await vi.waitFor(() => expect(a.connected).toBe(false), { timeout: 20_000 });
    await rig.hub.start();
    await vi.waitFor(
      () => expect(stats(a).resumed + stats(a).refetched).toBeGreaterThan(before.resumed + before.refetched),
      {
        timeout: 45_000,
      },
    );
    const after = stats(a);
    expect(after.refetched).toBe(before.refetched);
    expect(after.snapshots).toBe(before.snapshots);
    expect(after.resumed).toBeGreaterThan(before.resumed);
    expect(a.applied.size).toBe(applied); // the resync changed nothing downstream

    // a change right after the restart reaches the agent as a delta
    await rig.mustClient().create(refs.pods, ns, churnPod("r-2", a.node, "cm-1"));
    await vi.waitFor(() => expect(cachedPods(a, ns)).toEqual(["r-0", "r-1", "r-2"]), { timeout: 20_000 });
    await vi.waitFor(() => expect(a.agent?.cache.configMap(ns, "cm-1")).toBeDefined(), { timeout: 20_000 });
    expect(stats(a).refetched).toBe(before.refetched);
    expect(a.applied.duplicates()).toEqual([]);

    // the other half: the agent is away across a restart and its set changes meanwhile
    await a.stop();
    await restartHub(rig);
    await rig.mustClient().delete(refs.pods, ns, "r-0", { gracePeriodSeconds: 0 });
    await a.start();
    await vi.waitFor(() => expect(cachedPods(a, ns)).toEqual(["r-1", "r-2"]), { timeout: 45_000 });
    expect(stats(a).refetched).toBe(1); // this run's first hello: the sets differ, so a snapshot
    expect(stats(a).resumed).toBe(0);
    expect(a.applied.duplicates()).toEqual([]);
  }, 180_000);
});
