/**
 * ControllerDeps over a FakeClient for controller unit tests: one place that wires the fake
 * client, an EventRecorder, a silent logger, the clock and the shared informers the way the
 * hub's controller manager does, plus a reader for the Events a controller recorded and the
 * kubelet's part a workload test plays (a pod turning Running and Ready).
 */
import type { KubeObject } from "../../src/api/object.js";
import { type ResourceRef, refs } from "../../src/client/client.js";
import type { ControllerDeps } from "../../src/hub/controllers/controller.js";
import { EventRecorder } from "../../src/hub/controllers/events.js";
import { SharedInformers } from "../../src/hub/controllers/shared-informers.js";
import { silentLogger } from "../../src/lib/logger.js";
import { FakeClient, type FakeClientOptions } from "./fake-client.js";

/** deps for a controller over client, reading time from now */
export function controllerDeps(client: FakeClient, now: () => Date = () => new Date()): ControllerDeps {
  const logger = silentLogger();
  return {
    client,
    events: new EventRecorder(client, logger, now),
    logger,
    now,
    informers: new SharedInformers(client),
  };
}

/** a defaulting fake whose timestamps follow a movable clock, and deps over it */
export function fakeControllerDeps(
  start = "2024-01-01T00:00:00Z",
  opts: Omit<FakeClientOptions, "clock"> = { defaulting: true },
): {
  client: FakeClient;
  deps: ControllerDeps;
  clock: { now: Date; advance(ms: number): void };
  informers: SharedInformers;
} {
  const clock = {
    now: new Date(start),
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  const now = () => clock.now;
  const client = new FakeClient({ ...opts, clock: now });
  const deps = controllerDeps(client, now);
  return { client, deps, clock, informers: deps.informers };
}

/**
 * A controller over a fresh fake (see fakeControllerDeps) with `objects` seeded and the shared
 * informers started; its workers are not started, so the test drives reconcile(key) itself.
 */
export async function controllerFixture<C>(
  make: (deps: ControllerDeps, informers: SharedInformers) => C,
  objects: Array<[ResourceRef, KubeObject]>,
  start?: string,
) {
  const f = fakeControllerDeps(start);
  for (const [ref, o] of objects) f.client.seed(ref, o);
  const c = make(f.deps, f.informers);
  await f.informers.start();
  return { ...f, c };
}

/** what a kubelet reports once a pod's containers run and pass readiness (Ready since 2024-01-01) */
export function markRunningReady(client: FakeClient, ns: string, name: string): Promise<KubeObject> {
  return client.mutate(
    refs.pods,
    ns,
    name,
    (cur) => ({
      ...cur,
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-01-01T00:00:00Z" }],
      },
    }),
    { status: true },
  );
}

/** the reasons and messages of recorded events, in order */
export function eventsOf(client: FakeClient): string[] {
  return client
    .objects({ group: "", version: "v1", resource: "events" })
    .sort((a, b) =>
      String(a.metadata.resourceVersion).localeCompare(String(b.metadata.resourceVersion), undefined, {
        numeric: true,
      }),
    )
    .map((e) => `${e.reason}: ${e.message}`);
}
