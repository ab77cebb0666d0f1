/**
 * ControllerDeps over a FakeClient for controller unit tests: one place that wires the fake
 * client, an EventRecorder, a silent logger, the clock and the shared informers the way the
 * hub's controller manager does, plus a reader for the Events a controller recorded.
 */
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
