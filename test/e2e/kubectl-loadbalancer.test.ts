/**
 * Real kubectl 1.32 against a hub with simulated nodes: LoadBalancer services get the nodes'
 * addresses as EXTERNAL-IP, a second service on a taken port shows <pending> and `kubectl
 * describe` shows the Warning saying why, node pools by label, and NodePort and ClusterIP
 * allocation's 422 errors for taken and out-of-range ports and addresses.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHub, type TestHub } from "../helpers/hub.js";
import { KubeletSim } from "../helpers/kubelet-sim.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const poll = { timeout: 20_000, interval: 200 };

describe.skipIf(!need(hasKubectl()))("kubectl: LoadBalancer and NodePort services", () => {
  let t: TestHub;
  let sim: KubeletSim;
  let ips: string[];

  const externalIP = async (ns: string, name: string) => {
    const r = await t.kubectl(["get", "svc", name, "-n", ns, "--no-headers"]);
    // NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE
    return r.stdout.trim().split(/\s+/)[3];
  };

  beforeAll(async () => {
    t = await startHub();
    sim = new KubeletSim(t.hub.client!);
    await sim.start();
    const nodes = [await sim.addNode({ name: "lb-n1" }), await sim.addNode({ name: "lb-n2" })];
    ips = nodes.map(
      (n) =>
        (n.status as { addresses: { type: string; address: string }[] }).addresses.find(
          (a) => a.type === "InternalIP",
        )?.address ?? "",
    );
    await t.kubectl(["create", "namespace", "lb1"]);
  }, 60_000);

  afterAll(async () => {
    sim?.stop();
    await t?.stop();
  });

  it("shows every Ready node's address as EXTERNAL-IP", async () => {
    await t.kubectl(["create", "service", "loadbalancer", "web", "-n", "lb1", "--tcp=80:8080"]);
    await vi.waitFor(async () => expect(await externalIP("lb1", "web")).toBe(ips.join(",")), poll);
  });

  it("leaves a service on a taken port <pending>, with a Warning in kubectl describe, until the port frees", async () => {
    await t.kubectl(["create", "service", "loadbalancer", "clash", "-n", "lb1", "--tcp=80:9090"]);
    await vi.waitFor(async () => {
      const d = await t.kubectl(["describe", "svc", "clash", "-n", "lb1"]);
      expect(d.stdout).toMatch(
        /Warning\s+PortUnavailable\s+.*port TCP\/80 \(used by lb1\/web\) is already taken on every eligible node \(lb-n1, lb-n2\)/,
      );
    }, poll);
    expect(await externalIP("lb1", "clash")).toBe("<pending>");

    await t.kubectl(["delete", "svc", "web", "-n", "lb1"]);
    await vi.waitFor(async () => expect(await externalIP("lb1", "clash")).toBe(ips.join(",")), poll);
    const d = await t.kubectl(["describe", "svc", "clash", "-n", "lb1"]);
    expect(d.stdout).toMatch(/Normal\s+UpdatedIngressIP\s+.*LoadBalancer Ingress IP addresses updated/);
  });

  it("serves only from nodes labelled svccontroller.edgekube.io/enablelb=true once one is", async () => {
    await t.kubectl(["label", "node", "lb-n2", "svccontroller.edgekube.io/enablelb=true"]);
    await t.kubectl(["create", "service", "loadbalancer", "edge", "-n", "lb1", "--tcp=8443:8443"]);
    await vi.waitFor(async () => expect(await externalIP("lb1", "edge")).toBe(ips[1]), poll);
    // the existing service follows the label too
    await vi.waitFor(async () => expect(await externalIP("lb1", "clash")).toBe(ips[1]), poll);
  });

  it("refuses taken and out-of-range node ports with upstream's 422 errors", async () => {
    await t.kubectl([
      "create",
      "service",
      "nodeport",
      "np1",
      "-n",
      "lb1",
      "--tcp=80:80",
      "--node-port=30080",
    ]);
    const taken = await t.kubectl(
      ["create", "service", "nodeport", "np2", "-n", "lb1", "--tcp=80:80", "--node-port=30080"],
      { allowFail: true },
    );
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080');
    expect(taken.stderr).toContain("provided port is already allocated");
    const range = await t.kubectl(
      ["create", "service", "nodeport", "np3", "-n", "lb1", "--tcp=80:80", "--node-port=29999"],
      { allowFail: true },
    );
    expect(range.code).not.toBe(0);
    expect(range.stderr).toContain(
      "provided port is not in the valid range. The range of valid ports is 30000-32767",
    );
  });

  it("refuses a taken (10.43.0.1 = kubernetes) or out-of-range ClusterIP with upstream's 422 errors", async () => {
    const taken = await t.kubectl(
      ["create", "service", "clusterip", "ip1", "-n", "lb1", "--tcp=80:80", "--clusterip=10.43.0.1"],
      { allowFail: true },
    );
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(
      'Service "ip1" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.1"}: failed to allocate IP 10.43.0.1: provided IP is already allocated',
    );
    const range = await t.kubectl(
      ["create", "service", "clusterip", "ip2", "-n", "lb1", "--tcp=80:80", "--clusterip=10.99.0.1"],
      { allowFail: true },
    );
    expect(range.code).not.toBe(0);
    expect(range.stderr).toContain(
      'spec.clusterIPs: Invalid value: []string{"10.99.0.1"}: failed to allocate IP 10.99.0.1: the provided IP (10.99.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
    );
    // the cluster DNS address is never handed out unasked, so a DNS service can claim it
    await t.kubectl([
      "create",
      "service",
      "clusterip",
      "dns",
      "-n",
      "lb1",
      "--tcp=53:53",
      "--clusterip=10.43.0.10",
    ]);
    const got = await t.kubectl(["get", "svc", "dns", "-n", "lb1", "-o", "jsonpath={.spec.clusterIP}"]);
    expect(got.stdout).toBe("10.43.0.10");
  });
});
