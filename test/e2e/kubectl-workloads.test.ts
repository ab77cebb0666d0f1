/**
 * Real kubectl 1.32 against a hub running the workload controllers, with simulated nodes
 * (KubeletSim, which also binds pods since these tests run without a scheduler):
 * `kubectl create job` + `kubectl wait --for=condition=complete`, a DaemonSet following
 * nodes, a StatefulSet starting in order with its claims, and `kubectl scale sts` down.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHub, type TestHub } from "../helpers/hub.js";
import { KubeletSim } from "../helpers/kubelet-sim.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const WAIT = { timeout: 30_000, interval: 200 };

describe.skipIf(!need(hasKubectl()))("kubectl and the workload controllers", () => {
  let t: TestHub;
  let sim: KubeletSim;
  beforeAll(async () => {
    t = await startHub();
    sim = new KubeletSim(t.hub.client!);
    await sim.start();
    await sim.addNode({ name: "edge-1" });
  });
  afterAll(async () => {
    sim?.stop();
    await t?.stop();
  });

  it("kubectl create job → kubectl wait --for=condition=complete", async () => {
    await t.kubectl(["create", "namespace", "e2e-job"]);
    const gen = await t.kubectl([
      "create",
      "job",
      "pi",
      "--image=busybox",
      "-n",
      "e2e-job",
      "--dry-run=client",
      "-o",
      "json",
      "--",
      "true",
    ]);
    const job = JSON.parse(gen.stdout);
    // the simulated kubelet finishes pods annotated with an exit code
    job.spec.template.metadata = {
      ...(job.spec.template.metadata ?? {}),
      annotations: { "sim.edgekube.io/exit": "0" },
    };
    await t.kubectl(["create", "-f", "-"], { input: JSON.stringify(job) });
    const w = await t.kubectl([
      "wait",
      "--for=condition=complete",
      "job/pi",
      "-n",
      "e2e-job",
      "--timeout=30s",
    ]);
    expect(w.stdout).toContain("job.batch/pi condition met");
    const get = await t.kubectl(["get", "job", "pi", "-n", "e2e-job"]);
    expect(get.stdout).toMatch(/pi\s+Complete\s+1\/1/);
    const desc = await t.kubectl(["describe", "job", "pi", "-n", "e2e-job"]);
    expect(desc.stdout).toMatch(/SuccessfulCreate\s+.*Created pod: pi-/);
    expect(desc.stdout).toMatch(/Completed\s+.*Job completed/);
    const pods = await t.kubectl([
      "get",
      "pods",
      "-n",
      "e2e-job",
      "-l",
      "batch.kubernetes.io/job-name=pi",
      "-o",
      "name",
    ]);
    expect(pods.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("a DaemonSet gets one pod per node and follows node add/remove", async () => {
    await t.kubectl(["create", "namespace", "e2e-ds"]);
    await t.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: e2e-ds}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: busybox}]
`,
    });
    const podNodes = async () => {
      const r = await t.kubectl([
        "get",
        "pods",
        "-n",
        "e2e-ds",
        "-o",
        'jsonpath={range .items[*]}{.spec.nodeName}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}',
      ]);
      return r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.includes(" "))
        .sort();
    };
    const nodes = async () =>
      (await t.kubectl(["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"])).stdout
        .split(" ")
        .sort();
    await vi.waitFor(async () => expect(await podNodes()).toEqual(await nodes()), WAIT);
    await t.kubectl(["rollout", "status", "ds/agent", "-n", "e2e-ds", "--timeout=30s"]);
    await sim.addNode({ name: "edge-ds-extra" });
    await vi.waitFor(async () => expect(await podNodes()).toContain("edge-ds-extra"), WAIT);
    await t.kubectl(["delete", "node", "edge-ds-extra"]);
    await vi.waitFor(async () => expect(await podNodes()).not.toContain("edge-ds-extra"), WAIT);
    const ds = await t.kubectl(["get", "ds", "agent", "-n", "e2e-ds"]);
    expect(ds.stdout).toMatch(/agent\s+(\d+)\s+\1\s+\1\s+\1\s+\1/);
  });

  it("a StatefulSet of 3 starts 0,1,2 in order with claims; kubectl scale removes the highest ordinal", async () => {
    await t.kubectl(["create", "namespace", "e2e-sts"]);
    await t.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: e2e-sts}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`,
    });
    const r = await t.kubectl(["rollout", "status", "sts/web", "-n", "e2e-sts", "--timeout=30s"]);
    expect(r.stdout).toContain("partitioned roll out complete: 3 new pods have been updated");
    const ev = await t.kubectl([
      "get",
      "events",
      "-n",
      "e2e-sts",
      "--field-selector",
      "reason=SuccessfulCreate",
      "-o",
      "json",
    ]);
    // event names are random: order by the store's write order
    const podEvents = (
      JSON.parse(ev.stdout).items as { message: string; metadata: { resourceVersion: string } }[]
    )
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => e.message)
      .filter((m) => m.startsWith("create Pod"));
    expect(podEvents).toEqual([0, 1, 2].map((i) => `create Pod web-${i} in StatefulSet web successful`));
    const pvcs = await t.kubectl(["get", "pvc", "-n", "e2e-sts", "-o", "name"]);
    expect(pvcs.stdout.trim().split("\n").sort()).toEqual(
      [0, 1, 2].map((i) => `persistentvolumeclaim/www-web-${i}`),
    );
    const host = await t.kubectl([
      "get",
      "pod",
      "web-1",
      "-n",
      "e2e-sts",
      "-o",
      "jsonpath={.spec.hostname}.{.spec.subdomain}",
    ]);
    expect(host.stdout).toBe("web-1.web");

    await t.kubectl(["scale", "sts", "web", "-n", "e2e-sts", "--replicas=2"]);
    const names = async () =>
      (await t.kubectl(["get", "pods", "-n", "e2e-sts", "-o", "jsonpath={.items[*].metadata.name}"])).stdout
        .split(" ")
        .filter(Boolean)
        .sort();
    await vi.waitFor(async () => expect(await names()).toEqual(["web-0", "web-1"]), WAIT);
    const after = await t.kubectl(["get", "pvc", "-n", "e2e-sts", "-o", "name"]);
    expect(after.stdout.trim().split("\n")).toHaveLength(3); // claims are retained
  });
});
