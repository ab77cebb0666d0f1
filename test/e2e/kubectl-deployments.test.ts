/**
 * Real kubectl 1.32 against a hub running the Deployment, ReplicaSet and garbage-collector
 * controllers, with simulated nodes (KubeletSim), bound by the hub's scheduler: rollout status,
 * set image / history / undo, scale, restart, pause/resume, wait, and the three cascades.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refs } from "../../src/client/client.js";
import { startHub, type TestHub } from "../helpers/hub.js";
import { KubeletSim } from "../helpers/kubelet-sim.js";
import { hasKubectl, need } from "../helpers/prereq.js";

interface Rs {
  metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: { uid: string }[] };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
}

describe.skipIf(!need(hasKubectl()))("kubectl rollouts against the hub's controllers", () => {
  let t: TestHub;
  let sim: KubeletSim;
  let seq = 0;
  const POLL = { timeout: 20_000, interval: 200 };

  beforeAll(async () => {
    t = await startHub();
    const client = t.hub.client!;
    sim = new KubeletSim(client);
    await sim.addNode({ name: "e2e-deploy-n1" });
    await sim.start();
  });
  afterAll(async () => {
    sim?.stop();
    await t?.stop();
  });

  async function namespace(): Promise<string> {
    const ns = `e2e-deploy-${process.pid}-${++seq}`;
    await t.kubectl(["create", "namespace", ns]);
    return ns;
  }

  async function createWeb(ns: string, replicas = 2): Promise<void> {
    await t.kubectl([
      "create",
      "deployment",
      "web",
      "-n",
      ns,
      "--image=busybox:1.36",
      `--replicas=${replicas}`,
    ]);
    await t.kubectl(["rollout", "status", "deploy/web", "-n", ns, "--timeout=30s"]);
  }

  async function replicaSets(ns: string): Promise<Rs[]> {
    const out = await t.kubectl(["get", "rs", "-n", ns, "-o", "json"]);
    return (JSON.parse(out.stdout) as { items: Rs[] }).items;
  }

  async function podNames(ns: string): Promise<string[]> {
    const out = await t.kubectl(["get", "pods", "-n", ns, "-o", "name"]);
    return out.stdout.split("\n").filter(Boolean).sort();
  }

  it("create deployment → rollout status completes, wait Available, describe shows the event", async () => {
    const ns = await namespace();
    await createWeb(ns, 2);
    const w = await t.kubectl(["wait", "--for=condition=Available", "deploy/web", "-n", ns, "--timeout=20s"]);
    expect(w.stdout).toContain("condition met");
    const rss = await replicaSets(ns);
    expect(rss).toHaveLength(1);
    const rs = rss[0]!;
    expect(rs.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    const pods = await podNames(ns);
    expect(pods).toHaveLength(2);
    for (const p of pods) expect(p).toMatch(new RegExp(`^pod/${rs.metadata.name}-[a-z0-9]{5}$`));
    const d = await t.kubectl(["describe", "deploy", "web", "-n", ns]);
    expect(d.stdout).toContain(`Scaled up replica set ${rs.metadata.name} from 0 to 2`);
    expect(d.stdout).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(d.stdout).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
    const drs = await t.kubectl(["describe", "rs", rs.metadata.name, "-n", ns]);
    expect(drs.stdout).toMatch(/SuccessfulCreate\s+.*Created pod: web-/);
  });

  it("set image → new ReplicaSet, history shows 2 revisions, undo restores the old template", async () => {
    const ns = await namespace();
    await createWeb(ns, 2);
    const [first] = await replicaSets(ns);
    await t.kubectl(["set", "image", "deploy/web", "busybox=busybox:1.37", "-n", ns]);
    await t.kubectl(["rollout", "status", "deploy/web", "-n", ns, "--timeout=30s"]);
    const rss = await replicaSets(ns);
    expect(rss).toHaveLength(2);
    const second = rss.find((r) => r.metadata.name !== first!.metadata.name)!;
    expect(second.spec.replicas).toBe(2);
    expect(second.spec.template.spec.containers[0]!.image).toBe("busybox:1.37");
    expect(rss.find((r) => r.metadata.name === first!.metadata.name)!.spec.replicas).toBe(0);
    const hist = await t.kubectl(["rollout", "history", "deploy/web", "-n", ns]);
    expect(hist.stdout).toMatch(/^1\s/m);
    expect(hist.stdout).toMatch(/^2\s/m);
    await t.kubectl(["rollout", "undo", "deploy/web", "-n", ns]);
    await t.kubectl(["rollout", "status", "deploy/web", "-n", ns, "--timeout=30s"]);
    const img = await t.kubectl([
      "get",
      "deploy/web",
      "-n",
      ns,
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    expect(img.stdout).toBe("busybox:1.36");
    const after = await replicaSets(ns);
    expect(after).toHaveLength(2); // the old ReplicaSet is reused, not a third
    const reused = after.find((r) => r.metadata.name === first!.metadata.name)!;
    expect(reused.spec.replicas).toBe(2);
    expect(reused.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    const hist2 = await t.kubectl(["rollout", "history", "deploy/web", "-n", ns]);
    expect(hist2.stdout).toMatch(/^2\s/m);
    expect(hist2.stdout).toMatch(/^3\s/m);
    expect(hist2.stdout).not.toMatch(/^1\s/m);
  });

  it("scale up and down", async () => {
    const ns = await namespace();
    await createWeb(ns, 1);
    await t.kubectl(["scale", "deploy/web", "--replicas=4", "-n", ns]);
    await t.kubectl(["rollout", "status", "deploy/web", "-n", ns, "--timeout=30s"]);
    expect(await podNames(ns)).toHaveLength(4);
    await t.kubectl(["scale", "deploy/web", "--replicas=2", "-n", ns]);
    await expect.poll(async () => (await podNames(ns)).length, POLL).toBe(2);
    const d = await t.kubectl(["get", "deploy/web", "-n", ns, "-o", "jsonpath={.status.availableReplicas}"]);
    expect(d.stdout).toBe("2");
  });

  it("rollout restart makes a new ReplicaSet; pause holds a template change until resume", async () => {
    const ns = await namespace();
    await createWeb(ns, 2);
    await t.kubectl(["rollout", "restart", "deploy/web", "-n", ns]);
    await t.kubectl(["rollout", "status", "deploy/web", "-n", ns, "--timeout=30s"]);
    expect(await replicaSets(ns)).toHaveLength(2);
    await t.kubectl(["rollout", "pause", "deploy/web", "-n", ns]);
    await t.kubectl(["set", "image", "deploy/web", "busybox=busybox:1.37", "-n", ns]);
    await expect
      .poll(
        async () =>
          (
            await t.kubectl([
              "get",
              "deploy/web",
              "-n",
              ns,
              "-o",
              'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}',
            ])
          ).stdout,
        POLL,
      )
      .toBe("DeploymentPaused");
    expect(await replicaSets(ns)).toHaveLength(2);
    await t.kubectl(["rollout", "resume", "deploy/web", "-n", ns]);
    await t.kubectl(["rollout", "status", "deploy/web", "-n", ns, "--timeout=30s"]);
    const rss = await replicaSets(ns);
    expect(rss).toHaveLength(3);
    expect(
      rss.filter((r) => r.spec.replicas > 0).map((r) => r.spec.template.spec.containers[0]!.image),
    ).toEqual(["busybox:1.37"]);
  });

  it("delete deploy removes its ReplicaSets and pods (background and foreground)", async () => {
    for (const cascade of ["background", "foreground"]) {
      const ns = await namespace();
      await createWeb(ns, 2);
      await t.kubectl(["delete", "deploy/web", "-n", ns, `--cascade=${cascade}`, "--timeout=30s"]);
      if (cascade === "foreground") {
        // foreground: the Deployment (which kubectl waited for) went last, after its dependents
        expect(await replicaSets(ns)).toEqual([]);
        expect(await podNames(ns)).toEqual([]);
      }
      await expect.poll(async () => (await replicaSets(ns)).length, POLL).toBe(0);
      await expect.poll(async () => (await podNames(ns)).length, POLL).toBe(0);
    }
  });

  it("delete deploy --cascade=orphan leaves the ReplicaSet and pods, without the owner reference", async () => {
    const ns = await namespace();
    await createWeb(ns, 2);
    const before = await podNames(ns);
    await t.kubectl(["delete", "deploy/web", "-n", ns, "--cascade=orphan"]);
    await expect
      .poll(async () => (await t.kubectl(["get", "deploy", "-n", ns, "-o", "name"])).stdout.trim(), POLL)
      .toBe("");
    const rss = await replicaSets(ns);
    expect(rss).toHaveLength(1);
    expect(rss[0]!.metadata.ownerReferences ?? []).toEqual([]);
    expect(await podNames(ns)).toEqual(before);
    // the orphaned ReplicaSet still keeps its pods
    const rsObj = await t.hub.client!.get(refs.replicasets, ns, rss[0]!.metadata.name);
    expect((rsObj?.status as { replicas?: number } | undefined)?.replicas).toBe(2);
  });
});
