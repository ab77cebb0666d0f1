/**
 * The LoadBalancer controller inside a real hub (SQLite store, API server, informers) with
 * simulated nodes: address-pool mode with MetalLB sharing, a NotReady node dropping out of
 * klipper-mode ingress, and the ingress surviving a hub restart unchanged.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { refs } from "../../../src/client/client.js";
import type { HubConfig } from "../../../src/hub/hub.js";
import { startHub, type TestHub } from "../../helpers/hub.js";
import { KubeletSim } from "../../helpers/kubelet-sim.js";

const poll = { timeout: 20_000, interval: 100 };

function lb(name: string, port: number, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default", annotations },
    spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ port, protocol: "TCP" }] },
  };
}

describe("LoadBalancer controller in a hub", () => {
  const running: { t: TestHub; sim: KubeletSim }[] = [];
  afterEach(async () => {
    for (const { t, sim } of running.splice(0)) {
      sim.stop();
      await t.stop();
    }
  });

  async function hubWith(cfg: Partial<HubConfig>, nodes: string[]) {
    const t = await startHub(cfg);
    const sim = new KubeletSim(t.hub.client!);
    running.push({ t, sim });
    await sim.start();
    for (const n of nodes) await sim.addNode({ name: n });
    const client = t.hub.client!;
    const ingress = async (name: string) => {
      const s = (await client.get(refs.services, "default", name)) as {
        status?: { loadBalancer?: { ingress?: { ip: string }[] } };
      };
      return (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
    };
    return { t, sim, client, ingress };
  }

  it("hands out pool addresses, shares one under the same allow-shared-ip key, and says when none is left", async () => {
    const { client, ingress } = await hubWith(
      { loadBalancerPools: [{ name: "lan", addresses: ["192.0.2.240/31"] }] },
      ["p1"],
    );
    const key = { "metallb.io/allow-shared-ip": "front" };
    await client.create(refs.services, "default", lb("http", 80, key));
    await vi.waitFor(async () => expect(await ingress("http")).toEqual(["192.0.2.240"]), poll);
    await client.create(refs.services, "default", lb("https", 443, key));
    await client.create(refs.services, "default", lb("other", 80));
    await vi.waitFor(async () => {
      expect(await ingress("https")).toEqual(["192.0.2.240"]);
      expect(await ingress("other")).toEqual(["192.0.2.241"]);
    }, poll);
    await client.create(refs.services, "default", lb("late", 80));
    await vi.waitFor(async () => {
      const events = (await client.list(refs.events, "default")).items.filter(
        (e) => (e.involvedObject as { name: string }).name === "late",
      );
      expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(["Warning AllocationFailed"]);
      expect(String(events[0]?.message)).toContain("no free address left in the address pools");
    }, poll);
    expect(await ingress("late")).toEqual([]);
  });

  it("drops a node that stops reporting, and keeps the ingress across a hub restart", async () => {
    const { t, sim, client, ingress } = await hubWith({ nodeMonitorGracePeriodSeconds: 2 }, ["k1", "k2"]);
    await client.create(refs.services, "default", lb("web", 80));
    await vi.waitFor(async () => expect(await ingress("web")).toHaveLength(2), poll);
    const [ip1] = await ingress("web");
    sim.silence("k2"); // lease stops: the node lifecycle controller marks it Unknown
    await vi.waitFor(async () => expect(await ingress("web")).toEqual([ip1]), poll);

    sim.stop();
    await t.stop({ keepData: true });
    running.splice(0);
    // default grace (40 s): k1 stays Ready although nothing renews its lease now
    const again = await hubWith({ dataDir: t.dataDir }, []);
    expect(await again.ingress("web")).toEqual([ip1]);
  });
});
