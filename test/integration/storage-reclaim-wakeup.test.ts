/**
 * LocalPathStorage on a real temp directory: a released Delete volume whose last pod is still
 * being removed from the runtime is reclaimed as soon as the runtime lets go — through the pod
 * manager's podRemoved() or the follow-up pass — not at the next resync (set to an hour here, so
 * a test that relied on it would time out). Also: capacity reports go out only on a real change.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PersistentVolume, Pod } from "kubernetes-types/core/v1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LocalPathStorage } from "../../src/storage/index.js";

const HOUR = 3_600_000;
const MI = 1024 * 1024;

function releasedPv(): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: "pvc-1",
      uid: "u-pv",
      deletionTimestamp: "2024-01-01T00:00:00Z",
      annotations: {
        "pv.kubernetes.io/provisioned-by": "edgekube.io/local-path",
        "edgekube.io/local-path-node": "n1",
      },
    },
    spec: {
      persistentVolumeReclaimPolicy: "Delete",
      local: { path: "/var/lib/edgekube/storage/pvc-1_ns_data" },
      claimRef: { namespace: "ns", name: "data", uid: "u-data" },
    },
    status: { phase: "Released" },
  };
}

describe("local-path reclaim wake-up", () => {
  const dirs: string[] = [];
  const storages: LocalPathStorage[] = [];
  afterEach(() => {
    for (const s of storages.splice(0)) s.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function setup(runtime: { uids: string[] | undefined }) {
    const dataDir = mkdtempSync(join(tmpdir(), "ek-reclaim-"));
    dirs.push(dataDir);
    const dir = join(dataDir, "storage", "pvc-1_ns_data");
    mkdirSync(dir, { recursive: true });
    const reports: [string, unknown][] = [];
    let free = 500 * MI;
    const storage = new LocalPathStorage({
      dataDir,
      node: "n1",
      cache: { pods: (): Pod[] => [], persistentVolumes: () => [releasedPv()] },
      onChange: () => () => {},
      report: (key, status) => reports.push([key, status]),
      runtimePods: async () => {
        if (!runtime.uids) throw new Error("the container runtime is not started yet");
        return runtime.uids;
      },
      resyncMs: HOUR,
      capacityMs: HOUR,
      diskSpace: () => ({ capacityBytes: 1000 * MI, freeBytes: free }),
    });
    storages.push(storage);
    return { storage, dir, reports, setFree: (b: number) => (free = b) };
  }

  it("removes the directory when the pod manager reports the pod removed", async () => {
    const runtime = { uids: ["leaving-pod"] };
    const { storage, dir, reports } = setup(runtime);
    await storage.start();
    expect(existsSync(dir)).toBe(true);
    runtime.uids = [];
    storage.podRemoved();
    await vi.waitFor(() => expect(existsSync(dir)).toBe(false), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(reports.map(([k]) => k)).toContain("pv/pvc-1"), { timeout: 10_000 });
  });

  it("removes it by itself once the runtime lets go, without any event", async () => {
    const runtime = { uids: ["leaving-pod"] };
    const { storage, dir } = setup(runtime);
    await storage.start();
    expect(existsSync(dir)).toBe(true);
    runtime.uids = [];
    await vi.waitFor(() => expect(existsSync(dir)).toBe(false), { timeout: 10_000, interval: 50 });
  });

  it("starts while the runtime is not up yet, and reclaims once it is (never taking it for empty)", async () => {
    const runtime: { uids: string[] | undefined } = { uids: undefined };
    const { storage, dir } = setup(runtime);
    await storage.start();
    expect(existsSync(dir)).toBe(true);
    runtime.uids = [];
    await vi.waitFor(() => expect(existsSync(dir)).toBe(false), { timeout: 10_000, interval: 50 });
  });

  it("sends capacity only when free space moved by the threshold since the last report", async () => {
    const runtime = { uids: ["leaving-pod"] };
    const { storage, reports, setFree } = setup(runtime);
    await storage.start();
    const sent = () =>
      reports.filter(([k]) => k === "storage/n1").map(([, v]) => (v as { free: string }).free);
    expect(sent()).toEqual(["500Mi"]);
    setFree(470 * MI);
    storage.reportCapacity();
    setFree(530 * MI);
    storage.reportCapacity();
    expect(sent()).toEqual(["500Mi"]);
    setFree(430 * MI);
    storage.reportCapacity();
    expect(sent()).toEqual(["500Mi", "430Mi"]);
  });
});
