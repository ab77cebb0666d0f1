/**
 * local-path end to end on a real two-node dev cluster (issue 8), driven by kubectl through the
 * fixture's admin kubeconfig: a claim bound on first use on node2 (WaitForFirstConsumer), a pod
 * writing a file there; after that pod is gone a second pod with no node preference lands on the
 * same node (the PV's node affinity) and reads the file; with the hub stopped the agent restarts
 * and the pod keeps its mount and data; deleting the claim removes the directory under that
 * node's agent data dir (reclaim policy Delete).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultStorageDir, volumeDirName } from "../../../src/storage/index.js";
import { DevClusterFixture, type PodInfo } from "../../helpers/dev-cluster-fixture.js";
import { hasDocker, hasRoot, need } from "../../helpers/prereq.js";

const poll = { timeout: 90_000, interval: 1_000 };

describe.skipIf(!need(hasRoot(), hasDocker()))("local-path volumes on a dev cluster", () => {
  const f = new DevClusterFixture();
  const pvc = `data-${f.tag}`;
  const secret = `written-by-w1-${f.tag}`;
  let pvName = "";
  let reader: PodInfo;

  const kubectl = (args: string[], input?: string): string =>
    execFileSync("kubectl", ["--kubeconfig", f.cluster.kubeconfig, ...args], {
      encoding: "utf8",
      timeout: 60_000,
      ...(input !== undefined ? { input } : {}),
    });
  const podManifest = (name: string, script: string, node?: string) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: {
        ...(node ? { nodeSelector: { "kubernetes.io/hostname": node } } : {}),
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: f.image,
            imagePullPolicy: "Never",
            command: ["sh", "-c", script],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: pvc } }],
      },
    });
  const running = (name: string): Promise<PodInfo> => f.waitRunning(name, poll);
  const volumeDir = (node: string) =>
    join(defaultStorageDir(join(f.cluster.node(node).dir, "agent")), volumeDirName(pvName, "default", pvc));

  beforeAll(async () => {
    await f.up(2);
  }, 300_000);

  afterAll(async () => {
    await f.down();
  }, 120_000);

  it("binds the claim on first use on the pod's node and the pod writes into its directory", async () => {
    kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: pvc, namespace: "default" },
        spec: {
          storageClassName: "local-path",
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "16Mi" } },
        },
      }),
    );
    // WaitForFirstConsumer: nothing bound before a pod uses the claim
    expect(kubectl(["get", "pvc", pvc, "-o", "jsonpath={.status.phase}"])).toBe("Pending");
    kubectl(["apply", "-f", "-"], podManifest("w1", `echo ${secret} > /data/f && sleep 100000`, "node2"));
    const w1 = await running("w1");
    expect(w1.node).toBe("node2");
    await vi.waitFor(() => {
      expect(kubectl(["get", "pvc", pvc, "-o", "jsonpath={.status.phase}"])).toBe("Bound");
    }, poll);
    pvName = kubectl(["get", "pvc", pvc, "-o", "jsonpath={.spec.volumeName}"]).trim();
    expect(pvName).not.toBe("");
    expect(kubectl(["get", "pv", pvName, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"])).toBe(
      "Delete",
    );
    await vi.waitFor(
      () => expect(readFileSync(join(volumeDir("node2"), "f"), "utf8").trim()).toBe(secret),
      poll,
    );
    expect(existsSync(volumeDir("node1"))).toBe(false);
  }, 150_000);

  it("a new pod on the same claim lands on the same node (PV node affinity) and reads the file", async () => {
    kubectl(["delete", "pod", "w1", "--wait=true", "--timeout=60s"]);
    kubectl(["apply", "-f", "-"], podManifest("r1", "sleep 100000"));
    reader = await running("r1");
    expect(reader.node).toBe("node2");
    expect(f.exec(reader, ["cat", "/data/f"]).trim()).toBe(secret);
  }, 150_000);

  it("keeps the pod's mount and data with the hub stopped across an agent restart", async () => {
    const n2 = f.cluster.node("node2");
    const appContainer = () =>
      f.cluster
        .docker(n2, [
          "ps",
          "-q",
          "--no-trunc",
          "--filter",
          `label=io.kubernetes.pod.uid=${reader.uid}`,
          "--filter",
          "label=edgekube.io/role=app",
        ])
        .trim();
    const before = appContainer();
    expect(before).not.toBe("");
    await f.cluster.stopHub();
    await f.cluster.stopAgent("node2");
    await f.cluster.startAgent("node2"); // `run` from its cache; the hub is down
    await vi.waitFor(() => {
      expect(f.exec(reader, ["cat", "/data/f"], 10_000).trim()).toBe(secret);
    }, poll);
    // the same container kept running: the restart adopted it rather than recreating it
    expect(appContainer()).toBe(before);
    f.exec(reader, ["sh", "-c", "echo after-restart > /data/g"]);
    expect(readFileSync(join(volumeDir("node2"), "g"), "utf8").trim()).toBe("after-restart");
    await f.cluster.startHub();
  }, 150_000);

  it("deleting the claim removes the volume's directory on its node (reclaim Delete)", async () => {
    kubectl(["delete", "pod", "r1", "--wait=true", "--timeout=60s"]);
    kubectl(["delete", "pvc", pvc, "--wait=false"]);
    await vi.waitFor(() => expect(existsSync(volumeDir("node2"))).toBe(false), poll);
    await vi.waitFor(() => {
      expect(kubectl(["get", "pv", "-o", "name"])).not.toContain(pvName);
    }, poll);
  }, 150_000);
});
