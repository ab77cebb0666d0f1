/**
 * The CRD, volume and endpoints controllers on a real hub (SQLite file, in-process client):
 * CRDs are served again from the first request after a restart, schema defaults apply on
 * writes, and a pre-created Retain volume binds and stays Released after its claim goes.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { refs } from "../../../src/client/client.js";
import { startHub, type TestHub } from "../../helpers/hub.js";

const crd: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "gizmos.it.example.com" },
  spec: {
    group: "it.example.com",
    scope: "Cluster",
    names: { plural: "gizmos", kind: "Gizmo" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: { spec: { type: "object", properties: { size: { type: "integer", default: 7 } } } },
          },
        },
      },
    ],
  },
};

const gizmos = { group: "it.example.com", version: "v1", resource: "gizmos" };

describe("control plane on a real hub", () => {
  const hubs: TestHub[] = [];
  afterEach(async () => {
    for (const h of hubs.splice(0)) await h.stop();
  });

  it("serves a cluster-scoped CRD with defaults, and again right after a restart", async () => {
    const first = await startHub();
    hubs.push(first);
    const c = first.hub.client!;
    await c.create(refs.customresourcedefinitions, undefined, crd);
    await vi.waitFor(
      async () => {
        const got = await c.get(refs.customresourcedefinitions, undefined, "gizmos.it.example.com");
        const conds = (got?.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
        expect(conds.find((x) => x.type === "Established")?.status).toBe("True");
      },
      { timeout: 10_000, interval: 50 },
    );
    const made = await c.create(gizmos, undefined, {
      apiVersion: "it.example.com/v1",
      kind: "Gizmo",
      metadata: { name: "g1" },
      spec: { junk: true },
    });
    expect(made.spec).toEqual({ size: 7 });
    hubs.splice(hubs.indexOf(first), 1);
    await first.stop({ keepData: true });
    const second = await startHub({ dataDir: first.dataDir });
    hubs.push(second);
    // no waiting: start() serves existing CRDs before the hub is ready
    expect(second.hub.registry!.get("it.example.com", "v1", "gizmos")?.namespaced).toBe(false);
    expect((await second.hub.client!.get(gizmos, undefined, "g1"))?.spec).toEqual({ size: 7 });
  });

  it("binds a pre-created Retain volume by class, size and mode, and keeps it Released", async () => {
    const t = await startHub();
    hubs.push(t);
    const c = t.hub.client!;
    await c.create(refs.namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "it-vol" },
    });
    for (const [name, size] of [
      ["pv-small", "1Gi"],
      ["pv-big", "5Gi"],
    ] as const) {
      await c.create(refs.persistentvolumes, undefined, {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name },
        spec: {
          capacity: { storage: size },
          accessModes: ["ReadWriteOnce"],
          storageClassName: "manual",
          persistentVolumeReclaimPolicy: "Retain",
          hostPath: { path: `/srv/${name}` },
        },
      });
    }
    await c.create(refs.persistentvolumeclaims, "it-vol", {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "claim" },
      spec: {
        storageClassName: "manual",
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "2Gi" } },
      },
    });
    await vi.waitFor(
      async () => {
        const pvc = await c.get(refs.persistentvolumeclaims, "it-vol", "claim");
        expect(pvc?.status).toMatchObject({ phase: "Bound", capacity: { storage: "5Gi" } });
        expect((pvc?.spec as { volumeName?: string } | undefined)?.volumeName).toBe("pv-big");
      },
      { timeout: 10_000, interval: 50 },
    );
    expect((await c.get(refs.persistentvolumes, undefined, "pv-small"))?.status).toEqual({
      phase: "Available",
    });
    await c.delete(refs.persistentvolumeclaims, "it-vol", "claim");
    await vi.waitFor(
      async () =>
        expect((await c.get(refs.persistentvolumes, undefined, "pv-big"))?.status).toEqual({
          phase: "Released",
        }),
      { timeout: 10_000, interval: 50 },
    );
  });
});
