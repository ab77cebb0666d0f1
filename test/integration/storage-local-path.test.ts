/**
 * local-path volumes end to end on one machine: a real hub (SQLite, controllers, scheduler,
 * broker), a real edge agent joined to it (SQLite cache and outbox, LocalPathStorage) and the
 * pod manager on the local dockerd, driven with real kubectl. The volume directories are real
 * directories under the agent's temp data dir.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../src/api/object.js";
import { refs } from "../../src/client/client.js";
import { hasDocker, hasKubectl, need } from "../helpers/prereq.js";
import { StorageRig } from "../helpers/storage-rig.js";

const WAIT = { timeout: 150_000, interval: 200 };

function claimYaml(name: string, size: string, cls?: string): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: ${size}}}
${cls ? `  storageClassName: ${cls}\n` : ""}`;
}

function podYaml(
  name: string,
  claim: string,
  script: string,
  mount = "  volumeMounts: [{name: data, mountPath: /data}]",
): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, persistentVolumeClaim: {claimName: ${claim}}}]
  containers:
  - name: app
    image: edgekube/busybox:test
    imagePullPolicy: Never
    command: [sh, -c, ${JSON.stringify(script)}]
  ${mount}
`;
}

describe.skipIf(!need(hasDocker(), hasKubectl()))("local-path volumes on a real agent", () => {
  let rig: StorageRig;
  afterEach(async () => {
    await rig?.cleanup();
  });

  const client = () => rig.hub.hub.client!;
  const apply = (yaml: string) => rig.hub.kubectl(["apply", "-n", rig.ns, "-f", "-"], { input: yaml });
  const kubectl = (...args: string[]) => rig.hub.kubectl([...args, "-n", rig.ns]);
  const pod = (name: string) => client().get(refs.pods, rig.ns, name);
  async function running(name: string): Promise<KubeObject> {
    return vi.waitFor(async () => {
      const p = await pod(name);
      expect((p?.status as { phase?: string } | undefined)?.phase, name).toBe("Running");
      return p!;
    }, WAIT);
  }
  async function boundVolume(claim: string): Promise<string> {
    return vi.waitFor(async () => {
      const c = await client().get(refs.persistentvolumeclaims, rig.ns, claim);
      const v = (c?.spec as { volumeName?: string } | undefined)?.volumeName;
      expect(v, claim).toBeTruthy();
      return v!;
    }, WAIT);
  }
  const dirOf = (pv: string, claim: string) => join(rig.agentDir, "storage", `${pv}_${rig.ns}_${claim}`);

  it("creates the directory before the pod, keeps it across pods, agent restart and hub outage, removes it once unused", async () => {
    rig = new StorageRig();
    await rig.start({ pods: true });
    await apply(claimYaml("data", "64Mi"));
    await apply(
      podYaml("writer", "data", "stat -c %a /data > /data/mode-at-start; echo hello > /data/f; sleep 600"),
    );
    await running("writer");
    const pv = await boundVolume("data");
    const dir = dirOf(pv, "data");
    await vi.waitFor(() => expect(readFileSync(join(dir, "f"), "utf8")).toBe("hello\n"), WAIT);
    // made by us before the container started: 0777, not Docker's root 0755 auto-created mount
    expect(readFileSync(join(dir, "mode-at-start"), "utf8").trim()).toBe("777");
    expect(statSync(dir).mode & 0o777).toBe(0o777);
    const pvObj = (await client().get(refs.persistentvolumes, undefined, pv))!;
    expect(pvObj.metadata.finalizers).toContain("edgekube.io/local-path-cleanup");
    expect(pvObj.metadata.annotations?.["edgekube.io/local-path-node"]).toBe(rig.node);
    await vi.waitFor(async () => {
      const n = await client().get(refs.nodes, undefined, rig.node);
      expect(n?.metadata.annotations?.["edgekube.io/storage-free"]).toMatch(/^\d+Mi$/);
    }, WAIT);

    // a subPathExpr that expands to a traversal is refused by the pod manager
    await apply(
      podYaml(
        "escape",
        "data",
        "sleep 600",
        `  env: [{name: X, value: "../../.."}]\n    volumeMounts: [{name: data, mountPath: /data, subPathExpr: "$(X)"}]`,
      ),
    );
    await vi.waitFor(async () => {
      const evs = await kubectl(
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=escape",
        "-o",
        "json",
      );
      const items = (JSON.parse(evs.stdout) as { items: { reason: string; message: string }[] }).items;
      expect(items.map((e) => e.message)).toContainEqual(
        expect.stringMatching(/subPath "\.\.\/\.\.\/\.\." must not contain '\.\.'/),
      );
    }, WAIT);
    // forced: a pod that never started gets no new status on deletion, so the hub would not
    // finalize it (pod manager/status-writer gap, reported)
    await kubectl("delete", "pod", "escape", "--grace-period=0", "--force");

    await kubectl("delete", "pod", "writer", "--wait=true", "--timeout=60s");
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("hello\n");

    // agent restart, then the next pod on the same claim sees the file
    await rig.stopAgent();
    await rig.startAgent();
    await apply(podYaml("reader", "data", "cat /data/f > /data/seen; sleep 600"));
    await running("reader");
    await vi.waitFor(() => expect(readFileSync(join(dir, "seen"), "utf8")).toBe("hello\n"), WAIT);

    // hub outage: the pod and its volume carry on; after the hub returns all is as it was
    await rig.stopHub();
    await vi.waitFor(() => expect(rig.agent.connected).toBe(false), WAIT);
    const exec = await rig
      .runtime()
      .exec((await rig.runtime().listPods()).find((p) => p.name === "reader")!.uid, "app", [
        "sh",
        "-c",
        "echo offline > /data/offline",
      ]);
    expect(await exec.exitCode).toBe(0);
    await rig.restartHub();
    await vi.waitFor(() => expect(rig.agent.connected).toBe(true), WAIT);
    await running("reader");
    expect(readFileSync(join(dir, "offline"), "utf8")).toBe("offline\n");

    // the claim is deleted while "reader" still mounts it: pvc-protection keeps it Terminating,
    // so the PV stays Bound and the directory stays, until the pod is gone
    await kubectl("delete", "pvc", "data", "--wait=false");
    await vi.waitFor(async () => {
      const row = (await kubectl("get", "pvc", "data", "--no-headers")).stdout;
      expect(row.split(/\s+/)[1]).toBe("Terminating");
    }, WAIT);
    const held = await client().get(refs.persistentvolumeclaims, rig.ns, "data");
    expect(held?.metadata.finalizers).toContain("kubernetes.io/pvc-protection");
    const boundPv = await client().get(refs.persistentvolumes, undefined, pv);
    expect((boundPv?.status as { phase?: string } | undefined)?.phase).toBe("Bound");
    expect(boundPv?.metadata.finalizers).toContain("kubernetes.io/pv-protection");
    await rig.agent.storage.reconcile();
    expect(existsSync(join(dir, "f"))).toBe(true);
    await kubectl("delete", "pod", "reader", "--wait=true", "--timeout=60s");
    await vi.waitFor(
      async () => expect(await client().get(refs.persistentvolumeclaims, rig.ns, "data")).toBeUndefined(),
      WAIT,
    );
    await vi.waitFor(() => expect(existsSync(dir)).toBe(false), WAIT);
    await vi.waitFor(
      async () => expect(await client().get(refs.persistentvolumes, undefined, pv)).toBeUndefined(),
      WAIT,
    );
  }, 300_000);

  it("Retain keeps the directory with the PV Released, and after the PV is deleted", async () => {
    rig = new StorageRig();
    await rig.start({ pods: true });
    await apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: keep}
provisioner: edgekube.io/local-path
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
`);
    await apply(claimYaml("kept", "16Mi", "keep"));
    await apply(podYaml("w", "kept", "echo precious > /data/f; sleep 600"));
    await running("w");
    const pv = await boundVolume("kept");
    const dir = dirOf(pv, "kept");
    await vi.waitFor(() => expect(existsSync(join(dir, "f"))).toBe(true), WAIT);
    await kubectl("delete", "pod", "w", "--wait=true", "--timeout=60s");
    await kubectl("delete", "pvc", "kept", "--wait=true", "--timeout=60s");
    await vi.waitFor(async () => {
      const o = await client().get(refs.persistentvolumes, undefined, pv);
      expect((o?.status as { phase?: string } | undefined)?.phase).toBe("Released");
    }, WAIT);
    await vi.waitFor(
      () => expect(rig.agent.cache.persistentVolume(pv)?.status?.phase).toBe("Released"),
      WAIT,
    );
    await rig.agent.storage.reconcile();
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("precious\n");
    await rig.hub.kubectl(["delete", "pv", pv, "--wait=true", "--timeout=60s"]);
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("precious\n");
  }, 180_000);

  it("gives each StatefulSet replica its own directory, kept across a rolling restart", async () => {
    rig = new StorageRig();
    await rig.start({ pods: true });
    await apply(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: edgekube/busybox:test
        imagePullPolicy: Never
        command: [sh, -c, "[ -f /data/id ] || hostname > /data/id; date +%s%N >> /data/starts; sleep 600"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 16Mi}}
`);
    const names = ["web-0", "web-1", "web-2"];
    const uids = new Map<string, string>();
    const dirs = new Map<string, string>();
    for (const n of names) {
      uids.set(n, (await running(n)).metadata.uid!);
      const dir = dirOf(await boundVolume(`data-${n}`), `data-${n}`);
      dirs.set(n, dir);
      await vi.waitFor(() => expect(readFileSync(join(dir, "id"), "utf8")).toBe(`${n}\n`), WAIT);
    }
    expect(readdirSync(join(rig.agentDir, "storage")).filter((d) => d.includes(`_${rig.ns}_`))).toHaveLength(
      3,
    );
    await kubectl("rollout", "restart", "statefulset/web");
    for (const n of names) {
      await vi.waitFor(async () => {
        const p = await pod(n);
        expect(p?.metadata.uid).not.toBe(uids.get(n));
        expect((p?.status as { phase?: string } | undefined)?.phase).toBe("Running");
      }, WAIT);
    }
    for (const n of names) {
      const dir = dirs.get(n)!;
      expect(readFileSync(join(dir, "id"), "utf8")).toBe(`${n}\n`);
      await vi.waitFor(
        () => expect(readFileSync(join(dir, "starts"), "utf8").trim().split("\n")).toHaveLength(2),
        WAIT,
      );
    }
    expect(readdirSync(join(rig.agentDir, "storage")).filter((d) => d.includes(`_${rig.ns}_`))).toHaveLength(
      3,
    );
  }, 300_000);
});
