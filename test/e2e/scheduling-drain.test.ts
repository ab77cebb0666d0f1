/**
 * Real kubectl 1.32 against a hub with simulated nodes: scheduling, FailedScheduling in
 * `describe pod`, cordon/uncordon, drain honouring a PodDisruptionBudget, an unreachable node
 * and pod CIDRs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refs } from "../../src/client/client.js";
import { startHub, type TestHub } from "../helpers/hub.js";
import { KubeletSim } from "../helpers/kubelet-sim.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const POD = (ns: string, name: string, extra = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {app: web}
spec:
${extra}  containers:
  - name: c
    image: busybox:1.36
`;

describe.skipIf(!need(hasKubectl()))("kubectl scheduling and drain", () => {
  let t: TestHub;
  let sim: KubeletSim;
  beforeAll(async () => {
    t = await startHub({ nodeMonitorGracePeriodSeconds: 2 });
    sim = new KubeletSim(t.hub.client!, { leaseRenewMs: 300 });
    await sim.start();
    for (const n of ["e2e-a", "e2e-b", "e2e-c"]) await sim.addNode({ name: n, memory: "2Gi" });
  });
  afterAll(async () => {
    sim?.stop();
    await t?.stop();
  });

  it("schedules a pod onto a simulated node and sets pod CIDRs on registration", async () => {
    await t.kubectl(["create", "ns", "e2e-run"]);
    await t.kubectl(["apply", "-f", "-"], { input: POD("e2e-run", "p1") });
    await t.kubectl(["wait", "-n", "e2e-run", "pod/p1", "--for=condition=Ready", "--timeout=30s"]);
    const node = await t.kubectl(["get", "pod", "p1", "-n", "e2e-run", "-o", "jsonpath={.spec.nodeName}"]);
    expect(node.stdout).toMatch(/^e2e-[abc]$/);
    const cidrs = await t.kubectl([
      "get",
      "nodes",
      "-o",
      'jsonpath={range .items[*]}{.spec.podCIDR}{"\\n"}{end}',
    ]);
    const list = cidrs.stdout.trim().split("\n");
    expect(list).toHaveLength(3);
    expect(new Set(list).size).toBe(3);
    for (const c of list) expect(c).toMatch(/^10\.42\.\d+\.0\/24$/);
  });

  it("shows why a pod cannot be scheduled in kubectl describe", async () => {
    await t.kubectl(["create", "ns", "e2e-pending"]);
    await t.kubectl(["apply", "-f", "-"], {
      input: POD("e2e-pending", "picky", "  nodeSelector: {disktype: ssd}\n"),
    });
    const want =
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    await expect
      .poll(async () => (await t.kubectl(["describe", "pod", "picky", "-n", "e2e-pending"])).stdout, {
        timeout: 15_000,
      })
      .toContain(want);
    const d = await t.kubectl(["describe", "pod", "picky", "-n", "e2e-pending"]);
    expect(d.stdout).toMatch(/Warning\s+FailedScheduling/);
    expect(d.stdout).toMatch(/PodScheduled\s+False/);
  });

  it("cordons and uncordons a node", async () => {
    const c = await t.kubectl(["cordon", "e2e-c"]);
    expect(c.stdout).toContain("node/e2e-c cordoned");
    const get = await t.kubectl(["get", "node", "e2e-c"]);
    expect(get.stdout).toContain("Ready,SchedulingDisabled");
    await t.kubectl(["create", "ns", "e2e-cordon"]);
    await t.kubectl(["apply", "-f", "-"], {
      input: POD("e2e-cordon", "only-c", "  nodeSelector: {kubernetes.io/hostname: e2e-c}\n"),
    });
    await expect
      .poll(async () => (await t.kubectl(["describe", "pod", "only-c", "-n", "e2e-cordon"])).stdout, {
        timeout: 15_000,
      })
      .toContain("1 node(s) were unschedulable");
    expect((await t.kubectl(["uncordon", "e2e-c"])).stdout).toContain("node/e2e-c uncordoned");
    await t.kubectl(["wait", "-n", "e2e-cordon", "pod/only-c", "--for=condition=Ready", "--timeout=30s"]);
  });

  it("drains a node through evictions that respect a PodDisruptionBudget", async () => {
    await t.kubectl(["create", "ns", "e2e-drain"]);
    const pin = (n: string) => `  nodeName: ${n}\n`;
    await t.kubectl(["apply", "-f", "-"], {
      input: [
        POD("e2e-drain", "w1", pin("e2e-a")),
        POD("e2e-drain", "w2", pin("e2e-a")),
        POD("e2e-drain", "w3", pin("e2e-b")),
      ].join("---\n"),
    });
    await t.kubectl(["create", "pdb", "web", "-n", "e2e-drain", "--selector=app=web", "--min-available=2"]);
    await t.kubectl(["wait", "-n", "e2e-drain", "pod", "--all", "--for=condition=Ready", "--timeout=30s"]);
    await expect
      .poll(
        async () =>
          (
            await t.kubectl([
              "get",
              "pdb",
              "web",
              "-n",
              "e2e-drain",
              "-o",
              "jsonpath={.status.disruptionsAllowed}",
            ])
          ).stdout,
        { timeout: 10_000 },
      )
      .toBe("1");
    // the pods have no controller: --force lets drain evict them anyway
    const drain = t.kubectl(
      ["drain", "e2e-a", "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=90s"],
      { allowFail: true, timeoutMs: 120_000 },
    );
    // one eviction is allowed; the second is refused until a replacement is healthy
    await expect
      .poll(async () => (await t.hub.client!.list(refs.pods, "e2e-drain")).items.length, { timeout: 20_000 })
      .toBe(2);
    const left = (await t.hub.client!.list(refs.pods, "e2e-drain")).items.map((p) => p.metadata.name);
    expect(left).toContain("w3");
    const pdb = await t.kubectl([
      "get",
      "pdb",
      "web",
      "-n",
      "e2e-drain",
      "-o",
      "jsonpath={.status.disruptionsAllowed}",
    ]);
    expect(pdb.stdout).toBe("0");
    await t.kubectl(["apply", "-f", "-"], { input: POD("e2e-drain", "w4", pin("e2e-c")) });
    const r = await drain;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("node/e2e-a drained");
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    const pods = await t.kubectl([
      "get",
      "pods",
      "-n",
      "e2e-drain",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    expect(pods.stdout.split(" ").sort()).toEqual(["w3", "w4"]);
    expect((await t.kubectl(["get", "node", "e2e-a"])).stdout).toContain("SchedulingDisabled");
  });

  it("marks a silent node NotReady with the unreachable taint and keeps its pods", async () => {
    await sim.addNode({ name: "e2e-quiet" });
    await t.kubectl(["create", "ns", "e2e-quiet"]);
    await t.kubectl(["apply", "-f", "-"], { input: POD("e2e-quiet", "stay", "  nodeName: e2e-quiet\n") });
    await t.kubectl(["wait", "-n", "e2e-quiet", "pod/stay", "--for=condition=Ready", "--timeout=30s"]);
    sim.silence("e2e-quiet");
    await expect
      .poll(async () => (await t.kubectl(["get", "node", "e2e-quiet"])).stdout, { timeout: 15_000 })
      .toMatch(/e2e-quiet\s+NotReady/);
    const d = await t.kubectl(["describe", "node", "e2e-quiet"]);
    expect(d.stdout).toContain("node.kubernetes.io/unreachable:NoExecute");
    expect(d.stdout).toContain("Kubelet stopped posting node status.");
    const pod = await t.kubectl(["get", "pod", "stay", "-n", "e2e-quiet", "-o", "jsonpath={.metadata.name}"]);
    expect(pod.stdout).toBe("stay");
  });
});
