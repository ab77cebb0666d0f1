/**
 * Direct routing end to end on a two-node dev cluster whose agents run with
 * `--flannel-direct-routing`: each agent announces it in its Node's backend data through the
 * hub, each programs the other's pod subnet as a plain route over eth0 (nothing on flannel.1),
 * and pods talk across nodes — 10 MiB intact, unmasqueraded — without a packet on flannel.1.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DevClusterFixture, type PodInfo } from "../../helpers/dev-cluster-fixture.js";
import { hasDocker, hasRoot, need } from "../../helpers/prereq.js";

const TEN_MIB = 10 * 1024 * 1024;
const poll = { timeout: 60_000, interval: 300 };
const serve = (port: number) => `while true; do echo from-$(hostname) | nc -l -p ${port}; done`;
const countBytes = (port: number) =>
  `mkfifo /tmp/f; while true; do nc -l -p ${port} <>/tmp/f | wc -c > /tmp/got.tmp && mv /tmp/got.tmp /tmp/got; done`;

interface NodeObj {
  spec: { podCIDR: string };
  metadata: { annotations?: Record<string, string> };
}

describe.skipIf(!need(hasRoot(), hasDocker()))("direct routing on a dev cluster", () => {
  const f = new DevClusterFixture({ agentArgs: ["--flannel-direct-routing"] });
  let a1: PodInfo;
  let a2: PodInfo;

  const running = (name: string): Promise<PodInfo> => f.waitRunning(name, poll);
  const vxlanTx = (node: string): number => {
    const ns = f.cluster.node(node).netns;
    const out = execFileSync("ip", ["-n", ns, "-json", "-s", "link", "show", "dev", "flannel.1"], {
      encoding: "utf8",
    });
    return Number(JSON.parse(out)[0].stats64.tx.packets);
  };

  beforeAll(async () => {
    await f.up(2);
    await f.createPod("d1", "node1", serve(9000));
    await f.createPod("d2", "node2", `${serve(9000)} & ${countBytes(9001)}`);
    [a1, a2] = await Promise.all([running("d1"), running("d2")]);
  }, 180_000);

  afterAll(async () => {
    await f.down();
  }, 120_000);

  it("announces DirectRouting on both Nodes and routes each peer over eth0, nothing on flannel.1", async () => {
    const get = (n: string) => f.cluster.client().get<NodeObj>(`/api/v1/nodes/${n}`);
    const [n1, n2] = await Promise.all([get("node1"), get("node2")]);
    for (const n of [n1, n2]) {
      const data = JSON.parse(n.metadata.annotations?.["flannel.alpha.coreos.com/backend-data"] ?? "{}");
      expect(data.DirectRouting).toBe(true);
    }
    await vi.waitFor(() => {
      expect(f.overlay("node1")).toMatchObject({
        direct: [`${n2.spec.podCIDR} via ${f.cluster.node("node2").ip}`],
        routes: [],
        neighs: [],
        fdb: [],
      });
      expect(f.overlay("node2").direct).toEqual([`${n1.spec.podCIDR} via ${f.cluster.node("node1").ip}`]);
    }, poll);
  });

  it("carries TCP between pods on the two nodes without encapsulation, 10 MiB intact", async () => {
    const before = [vxlanTx("node1"), vxlanTx("node2")];
    await vi.waitFor(
      () => expect(f.exec(a1, ["nc", "-w", "3", a2.ip, "9000"]).trim()).toMatch(/^from-/),
      poll,
    );
    expect(f.exec(a2, ["nc", "-w", "3", a1.ip, "9000"]).trim()).toMatch(/^from-/);
    f.exec(a1, ["sh", "-c", `head -c ${TEN_MIB} /dev/zero | nc -w 5 ${a2.ip} 9001`], 60_000);
    await vi.waitFor(() => expect(Number(f.exec(a2, ["cat", "/tmp/got"]).trim())).toBe(TEN_MIB), poll);
    expect([vxlanTx("node1"), vxlanTx("node2")]).toEqual(before);
  });
});
