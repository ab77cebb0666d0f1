/**
 * Volumes as a kubectl user sees them, on a real hub with a real joined agent (no containers
 * needed: binding and provisioning happen once the scheduler places the consumer pod):
 * `kubectl get pv,pvc` columns, `kubectl describe pvc` events, a claim too large for the node's
 * free space, and a pod whose volume is on a node that is gone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../src/client/client.js";
import { hasKubectl, need } from "../helpers/prereq.js";
import { StorageRig } from "../helpers/storage-rig.js";

const WAIT = { timeout: 30_000, interval: 200 };

function consumer(name: string, claim: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: ${claim}}}]
  containers: [{name: app, image: edgekube/busybox:test, volumeMounts: [{name: data, mountPath: /data}]}]
`;
}

function claim(name: string, size: string, extra = ""): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: ${size}}}
${extra}`;
}

describe.skipIf(!need(hasKubectl()))("kubectl and local-path volumes", () => {
  let rig: StorageRig;
  beforeAll(async () => {
    rig = new StorageRig();
    await rig.start();
    await vi.waitFor(async () => {
      const n = await rig.hub.hub.client!.get(refs.nodes, undefined, rig.node);
      expect(n?.metadata.annotations?.["edgekube.io/storage-free"]).toMatch(/^\d+Mi$/);
    }, WAIT);
  }, 120_000);
  afterAll(async () => {
    await rig?.cleanup();
  });
  const kubectl = (args: string[], input?: string) =>
    rig.hub.kubectl([...args, "-n", rig.ns], input === undefined ? {} : { input });

  it("get pv,pvc prints upstream's columns; describe pvc shows the binding events", async () => {
    await kubectl(["apply", "-f", "-"], claim("data", "32Mi"));
    await vi.waitFor(async () => {
      const d = await kubectl(["describe", "pvc", "data"]);
      expect(d.stdout).toMatch(
        /WaitForFirstConsumer[^\n]*persistentvolume-controller\s+waiting for first consumer/,
      );
    }, WAIT);
    await kubectl(["apply", "-f", "-"], consumer("user", "data"));
    const pv = await vi.waitFor(async () => {
      const c = await rig.hub.hub.client!.get(refs.persistentvolumeclaims, rig.ns, "data");
      expect((c?.status as { phase?: string } | undefined)?.phase).toBe("Bound");
      return (c?.spec as { volumeName?: string } | undefined)?.volumeName ?? "";
    }, WAIT);
    const out = (await kubectl(["get", "pv,pvc"])).stdout;
    const lines = out.split("\n").map((l) => l.trim().split(/\s{2,}/));
    expect(lines).toContainEqual([
      "NAME",
      "CAPACITY",
      "ACCESS MODES",
      "RECLAIM POLICY",
      "STATUS",
      "CLAIM",
      "STORAGECLASS",
      "VOLUMEATTRIBUTESCLASS",
      "REASON",
      "AGE",
    ]);
    const pvRow = lines.find((l) => l[0] === `persistentvolume/${pv}`);
    expect(pvRow?.slice(1, 8)).toEqual([
      "32Mi",
      "RWO",
      "Delete",
      "Bound",
      `${rig.ns}/data`,
      "local-path",
      "<unset>",
    ]);
    expect(lines).toContainEqual([
      "NAME",
      "STATUS",
      "VOLUME",
      "CAPACITY",
      "ACCESS MODES",
      "STORAGECLASS",
      "VOLUMEATTRIBUTESCLASS",
      "AGE",
    ]);
    const pvcRow = lines.find((l) => l[0] === "persistentvolumeclaim/data");
    expect(pvcRow?.slice(1, 7)).toEqual(["Bound", pv, "32Mi", "RWO", "local-path", "<unset>"]);
    const d = (await kubectl(["describe", "pvc", "data"])).stdout;
    expect(d).toMatch(/Status:\s+Bound/);
    expect(d).toMatch(new RegExp(`Volume:\\s+${pv}`));
    expect(d).toMatch(
      /ProvisioningSucceeded[^\n]*persistentvolume-controller\s+Successfully provisioned volume/,
    );
    const dpv = (await rig.hub.kubectl(["describe", "pv", pv])).stdout;
    expect(dpv).toMatch(/Finalizers:\s+\[.*edgekube\.io\/local-path-cleanup.*\]/);
    expect(dpv).toMatch(new RegExp(`Term 0:\\s+kubernetes.io/hostname in \\[${rig.node}\\]`));
  }, 90_000);

  it("does not bind a claim larger than the node's free space: the pod stays Pending, saying why", async () => {
    await kubectl(["apply", "-f", "-"], claim("huge", "900Ti"));
    await kubectl(["apply", "-f", "-"], consumer("hungry", "huge"));
    await vi.waitFor(async () => {
      const d = await kubectl(["describe", "pod", "hungry"]);
      expect(d.stdout).toMatch(
        /FailedScheduling[^\n]*default-scheduler\s+0\/1 nodes are available: 1 node\(s\) did not have enough free storage\./,
      );
    }, WAIT);
    const c = await rig.hub.hub.client!.get(refs.persistentvolumeclaims, rig.ns, "huge");
    expect((c?.status as { phase?: string } | undefined)?.phase).toBe("Pending");
    expect((c?.spec as { volumeName?: string } | undefined)?.volumeName).toBeUndefined();
  }, 90_000);

  it("keeps a pod Pending with a clear event when its volume is on a node that is gone", async () => {
    await rig.hub.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${rig.ns}-orphan}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  local: {path: /srv/orphan}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [gone-node]}]
`,
    });
    await kubectl(
      ["apply", "-f", "-"],
      claim("stranded", "1Gi", `  storageClassName: ""\n  volumeName: ${rig.ns}-orphan\n`),
    );
    await kubectl(["apply", "-f", "-"], consumer("stranded", "stranded"));
    await vi.waitFor(async () => {
      const d = await kubectl(["describe", "pod", "stranded"]);
      expect(d.stdout).toMatch(/Status:\s+Pending/);
      expect(d.stdout).toMatch(
        /FailedScheduling[^\n]*default-scheduler\s+0\/1 nodes are available: 1 node\(s\) had volume node affinity conflict\./,
      );
    }, WAIT);
    const p = await rig.hub.hub.client!.get(refs.pods, rig.ns, "stranded");
    expect((p?.spec as { nodeName?: string } | undefined)?.nodeName).toBeUndefined();
  }, 90_000);
});
