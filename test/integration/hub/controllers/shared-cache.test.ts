/**
 * The hub's one cache per resource on a running hub (real SQLite store, real kubectl): the
 * shared informers and the edge desired index hold the same pod object, without managedFields,
 * and an update written from that cached copy keeps the stored managedFields.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../../src/api/object.js";
import { refs } from "../../../../src/client/client.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { hasKubectl, need } from "../../../helpers/prereq.js";

const POLL = { timeout: 20_000, interval: 50 };

describe.skipIf(!need(hasKubectl()))("shared cache on a running hub", () => {
  let t: TestHub;
  const ns = `shared-${process.pid}`;
  const node = `shared-n-${process.pid}`;

  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const cachedPod = (name: string) => t.hub.informers?.peek(refs.pods)?.get(`${ns}/${name}`);
  const desiredPod = (name: string) =>
    t.hub.edgeService.index.snapshot(node).objects.find((o) => o.key === `core/pods/${ns}/${name}`)?.object;

  it("holds one object per pod write for the controllers and the desired index", async () => {
    await t.kubectl(["create", "namespace", ns]);
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p1", namespace: ns, labels: { app: "shared" } },
      spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
    };
    await t.kubectl(["apply", "--server-side", "-f", "-"], { input: JSON.stringify(manifest) });
    const stored = await t.hub.client!.get(refs.pods, ns, "p1");
    expect(stored?.metadata.managedFields?.[0]).toMatchObject({ manager: "kubectl", operation: "Apply" });

    // the initial write: same object in both caches, managedFields dropped
    await until(() => cachedPod("p1") !== undefined && desiredPod("p1") !== undefined);
    expect(desiredPod("p1")).toBe(cachedPod("p1"));
    expect(cachedPod("p1")?.metadata.managedFields).toBeUndefined();

    // a later write (the status, as a kubelet would) is decoded once for both as well
    const running = await t.hub.client!.mutate(
      refs.pods,
      ns,
      "p1",
      (cur) => ({ ...cur, status: { phase: "Running" } }),
      { status: true },
    );
    const rv = running.metadata.resourceVersion;
    await until(
      () =>
        cachedPod("p1")?.metadata.resourceVersion === rv && desiredPod("p1")?.metadata.resourceVersion === rv,
    );
    expect(desiredPod("p1")).toBe(cachedPod("p1"));
  });

  it("keeps the stored managedFields when a controller updates from its cached copy", async () => {
    await until(() => cachedPod("p1") !== undefined);
    const cached = cachedPod("p1") as KubeObject;
    const next = { ...cached, metadata: { ...cached.metadata, labels: { app: "shared", adopted: "yes" } } };
    await t.hub.client!.update(refs.pods, ns, next);
    const stored = await t.hub.client!.get(refs.pods, ns, "p1");
    expect(stored?.metadata.labels).toEqual({ app: "shared", adopted: "yes" });
    expect(stored?.metadata.managedFields?.[0]).toMatchObject({ manager: "kubectl", operation: "Apply" });
    // kubectl's next server-side apply still finds its ownership and keeps the controller's label
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p1", namespace: ns, labels: { app: "shared" } },
      spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
    };
    await t.kubectl(["apply", "--server-side", "-f", "-"], { input: JSON.stringify(manifest) });
    const after = await t.hub.client!.get(refs.pods, ns, "p1");
    expect(after?.metadata.labels).toEqual({ app: "shared", adopted: "yes" });
    expect(after?.metadata.managedFields?.map((e) => (e as { manager?: string }).manager)).toContain(
      "kubectl",
    );
  });
});

async function until(check: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    if (!check()) throw new Error("not yet");
  }, POLL);
}
