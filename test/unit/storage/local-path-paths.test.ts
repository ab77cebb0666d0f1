/**
 * local-path rules without a disk: directory names, traversal refusal in object names, in a
 * StorageClass's nodePath and in a PV's path; the reclaim plan ("never while a pod uses it");
 * capacity rounding.
 */
import type { PersistentVolume, Pod } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import {
  checkBasePath,
  classBasePath,
  reclaimPlan,
  reportedFreeBytes,
  reportThreshold,
  StoragePathError,
  significantChange,
  storageReport,
  volumeDirName,
  volumeLocation,
  volumeNode,
} from "../../../src/storage/index.js";

const DATA = "/data/agent";

function pv(over: {
  name?: string;
  path?: string;
  claim?: [string, string];
  phase?: string;
  deleting?: boolean;
  policy?: string;
  node?: string;
  provisioned?: boolean;
}): PersistentVolume {
  const name = over.name ?? "pvc-1";
  const [ns, claim] = over.claim ?? ["default", "data"];
  return {
    metadata: {
      name,
      uid: `uid-${name}`,
      annotations: {
        ...(over.provisioned === false
          ? {}
          : { "pv.kubernetes.io/provisioned-by": "edgekube.io/local-path" }),
        "edgekube.io/local-path-node": over.node ?? "n1",
      },
      ...(over.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
    },
    spec: {
      local: { path: over.path ?? `/var/lib/edgekube/storage/${name}_${ns}_${claim}` },
      claimRef: { namespace: ns, name: claim, uid: "c1" },
      persistentVolumeReclaimPolicy: over.policy ?? "Delete",
    },
    status: { phase: over.phase ?? "Bound" },
  };
}

function pod(name: string, claim: string, uid = `uid-${name}`): Pod {
  return {
    metadata: { name, namespace: "default", uid },
    spec: {
      nodeName: "n1",
      containers: [],
      volumes: [{ name: "v", persistentVolumeClaim: { claimName: claim } }],
    },
  };
}

describe("volume directory names", () => {
  it("joins valid names with '_' and refuses traversal or foreign characters in any part", () => {
    expect(volumeDirName("pvc-1", "default", "data-web-0")).toBe("pvc-1_default_data-web-0");
    for (const [a, b, c] of [
      ["..", "default", "x"],
      ["pvc-1", "../etc", "x"],
      ["pvc-1", "default", "a/b"],
      ["pvc-1", "default", "../../root"],
      ["pvc-1", "Default", "x"],
      ["pvc_1", "default", "x"],
      ["pvc-1", "a.b", "x"], // namespaces are DNS labels: no dots
      ["", "default", "x"],
      ["pvc-1", "default", `a${"\0"}b`],
    ] as const) {
      expect(() => volumeDirName(a, b, c), `${a} ${b} ${c}`).toThrow(StoragePathError);
    }
    expect(() => volumeDirName("x".repeat(254), "d", "c")).toThrow(/DNS subdomain/);
  });
});

describe("base paths (StorageClass nodePath)", () => {
  it("accepts absolute data-disk paths and refuses relative, '..', unnormalized and system paths", () => {
    expect(() => checkBasePath("/mnt/usb")).not.toThrow();
    expect(() => checkBasePath("/srv/edgekube/volumes/")).not.toThrow();
    for (const bad of [
      "",
      "mnt/usb",
      "/mnt/../etc",
      "/mnt/usb/..",
      "/mnt//usb",
      "/mnt/./usb",
      "/",
      "/etc",
      "/proc/1",
      "/usr/local/x",
      "/sys",
    ]) {
      expect(() => checkBasePath(bad), bad).toThrow(StoragePathError);
    }
  });

  it("reads nodePath (or basePath) from a class and explains what to do when it is refused", () => {
    expect(classBasePath({ parameters: { nodePath: "/mnt/usb/" } })).toBe("/mnt/usb");
    expect(classBasePath({ parameters: { basePath: "/mnt/ssd" } })).toBe("/mnt/ssd");
    expect(classBasePath({})).toBeUndefined();
    expect(() => classBasePath({ parameters: { nodePath: "/mnt/../../etc" } })).toThrow(
      /nodePath "\/mnt\/..\/..\/etc" contains '..': use an absolute directory on a data disk/,
    );
  });
});

describe("volumeLocation", () => {
  it("maps the placeholder root to DATA_DIR/storage and keeps another base", () => {
    expect(volumeLocation(DATA, pv({}))).toEqual({
      dir: "/data/agent/storage/pvc-1_default_data",
      provisioned: true,
    });
    expect(volumeLocation(DATA, pv({ path: "/mnt/usb/pvc-1_default_data" })).dir).toBe(
      "/mnt/usb/pvc-1_default_data",
    );
  });

  it("refuses a provisioned path that disagrees with the PV's names or leaves the base", () => {
    expect(() => volumeLocation(DATA, pv({ path: "/var/lib/edgekube/storage/../../../etc" }))).toThrow(
      /does not end in "pvc-1_default_data"/,
    );
    expect(() => volumeLocation(DATA, pv({ path: "/etc/pvc-1_default_data" }))).toThrow(/system directory/);
    expect(() => volumeLocation(DATA, pv({ path: "/mnt/a/../pvc-1_default_data" }))).toThrow(/'\.\.'/);
    expect(() =>
      volumeLocation(DATA, pv({ claim: ["..", "data"], path: "/var/lib/edgekube/storage/x" })),
    ).toThrow(StoragePathError);
  });

  it("uses an admin's static volume where it points, if absolute and free of '..'", () => {
    expect(volumeLocation(DATA, pv({ provisioned: false, path: "/srv/static/" }))).toEqual({
      dir: "/srv/static",
      provisioned: false,
    });
    expect(() => volumeLocation(DATA, pv({ provisioned: false, path: "/srv/../etc" }))).toThrow(/'\.\.'/);
    expect(() => volumeLocation(DATA, pv({ provisioned: false, path: "rel" }))).toThrow(/absolute/);
  });

  it("finds the volume's node from the annotation, else a single hostname term", () => {
    expect(volumeNode(pv({ node: "n7" }))).toBe("n7");
    const bare: PersistentVolume = {
      metadata: { name: "x" },
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n2"] }] },
            ],
          },
        },
      },
    };
    expect(volumeNode(bare)).toBe("n2");
  });
});

describe("reclaimPlan", () => {
  const plan = (pvs: PersistentVolume[], pods: Pod[] = [], runtimePods?: string[]) =>
    reclaimPlan({ node: "n1", pvs, pods, ...(runtimePods ? { runtimePods } : {}) }).map((a) =>
      a.action === "wait"
        ? `wait ${a.pv.metadata?.name}: ${a.reason}`
        : `${a.action} ${a.pv.metadata?.name} report=${a.report}`,
    );

  it("leaves bound volumes alone and deletes a released Delete volume only when no pod uses it", () => {
    expect(plan([pv({})])).toEqual([]);
    expect(plan([pv({ deleting: true, phase: "Released" })], [pod("p", "data")])).toEqual([
      "wait pvc-1: still used by pod default/p",
    ]);
    expect(plan([pv({ deleting: true, phase: "Released" })], [pod("p", "other")])).toEqual([
      "delete pvc-1 report=true",
    ]);
    // Released but the hub has not deleted it yet: clean, report once it is marked for deletion
    expect(plan([pv({ phase: "Released" })])).toEqual(["delete pvc-1 report=false"]);
  });

  it("waits while the runtime still holds a pod the cache no longer knows", () => {
    expect(plan([pv({ deleting: true })], [pod("p", "other", "u1")], ["u1", "u-gone"])).toEqual([
      "wait pvc-1: pod u-gone is still being removed",
    ]);
    expect(plan([pv({ deleting: true })], [pod("p", "other", "u1")], ["u1"])).toEqual([
      "delete pvc-1 report=true",
    ]);
  });

  it("keeps Retain volumes (reporting only a deletion), ignores other nodes' and static volumes", () => {
    expect(plan([pv({ policy: "Retain", phase: "Released" })])).toEqual([]);
    expect(plan([pv({ policy: "Retain", deleting: true })], [pod("p", "data")])).toEqual([
      "retain pvc-1 report=true",
    ]);
    expect(plan([pv({ node: "n2", deleting: true })])).toEqual([]);
    expect(plan([pv({ provisioned: false, deleting: true })])).toEqual([]);
  });
});

describe("storage capacity reports", () => {
  const MI = 1024 * 1024;
  const GI = 1024 * MI;
  const one = (capacityBytes: number, freeBytes: number) => new Map([["", { capacityBytes, freeBytes }]]);

  it("reports the default base at the top and other bases under paths, exact to the MiB", () => {
    const space = new Map([
      ["", { capacityBytes: 1000 * MI, freeBytes: 300 * MI + 5 }],
      ["/mnt/usb/ek", { capacityBytes: 64 * GI, freeBytes: 10 * GI }],
    ]);
    expect(storageReport(space)).toEqual({
      capacity: "1000Mi",
      free: "300Mi",
      paths: { "/mnt/usb/ek": { capacity: "65536Mi", free: "10240Mi" } },
    });
    expect(storageReport(one(1000 * MI, -1))).toEqual({ capacity: "1000Mi", free: "0Mi" });
    expect(storageReport(new Map())).toBeUndefined();
  });

  it("sends a new report only when free space moved by max(64Mi, 1%) since the last one sent", () => {
    expect(reportThreshold(1000 * MI)).toBe(64 * MI);
    expect(reportThreshold(100 * GI)).toBe(1024 * MI);
    const sent = one(100 * GI, 50 * GI);
    expect(significantChange(undefined, sent)).toBe(true);
    expect(significantChange(sent, one(100 * GI, 50 * GI - 1023 * MI))).toBe(false);
    expect(significantChange(sent, one(100 * GI, 50 * GI + 1024 * MI))).toBe(true);
    // hovering around any boundary sends nothing: the reference is the last figure sent
    for (const d of [-5, 5, -5, 5])
      expect(significantChange(sent, one(100 * GI, 50 * GI + d * MI))).toBe(false);
    expect(significantChange(sent, one(101 * GI, 50 * GI))).toBe(true);
    const usb = new Map([...sent, ["/mnt/usb", { capacityBytes: GI, freeBytes: GI }]]);
    expect(significantChange(sent, usb)).toBe(true);
    expect(significantChange(usb, sent)).toBe(true);
  });

  it("reads a node's free bytes for the default base and for a nodePath base", () => {
    const ann = {
      "edgekube.io/storage-free": "512Mi",
      "edgekube.io/storage-paths": JSON.stringify({ "/mnt/usb": { capacity: "2Gi", free: "1Gi" } }),
    };
    expect(reportedFreeBytes(ann, undefined)).toBe(512 * MI);
    expect(reportedFreeBytes(ann, "/mnt/usb")).toBe(GI);
    expect(reportedFreeBytes(ann, "/mnt/other")).toBeUndefined();
    expect(reportedFreeBytes({ "edgekube.io/storage-paths": "{not json" }, "/mnt/usb")).toBeUndefined();
    expect(reportedFreeBytes({ "edgekube.io/storage-free": "lots" }, undefined)).toBeUndefined();
    expect(reportedFreeBytes(undefined, undefined)).toBeUndefined();
  });
});
