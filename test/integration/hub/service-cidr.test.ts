/**
 * A hub started with a service CIDR other than 10.43.0.0/16 (edge-hub --service-cidr): the
 * `kubernetes` service takes the first address, agents are told the tenth for cluster DNS at
 * join, the API server's certificate names the kubernetes address, and new services get
 * addresses inside the range — nothing keeps the 10.43.0.x defaults.
 */
import type { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../../src/client/client.js";
import { joinHub, mintToken } from "../../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../../helpers/hub.js";
import { hasKubectl, need } from "../../helpers/prereq.js";
import { uniqueNode } from "../../helpers/transport-fixture.js";

describe.skipIf(!need(hasKubectl()))("a hub with --service-cidr 10.96.0.0/12", () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startHub({ serviceCIDR: "10.96.0.0/12" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("puts the kubernetes service on the first address and names it in the serving certificate", async () => {
    await vi.waitFor(
      async () => {
        const svc = await h.hub.client!.get(refs.services, "default", "kubernetes");
        expect((svc?.spec as { clusterIP?: string } | undefined)?.clusterIP).toBe("10.96.0.1");
      },
      { timeout: 20_000, interval: 100 },
    );
    const served = await new Promise<X509Certificate>((resolve, reject) => {
      const port = Number(new URL(h.hub.url).port);
      const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
        const cert = s.getPeerX509Certificate();
        s.end();
        if (cert) resolve(cert);
        else reject(new Error("the hub presented no certificate"));
      });
      s.on("error", reject);
    });
    expect(served.subjectAltName).toContain("IP Address:10.96.0.1");
  });

  it("tells joining agents 10.96.0.10 for cluster DNS", async () => {
    const token = await mintToken(h.hub, h.dataDir);
    const { response } = await joinHub(h.hub.url, token, { nodeName: uniqueNode("cidr") });
    expect(response).toMatchObject({ serviceCIDR: "10.96.0.0/12", clusterDNS: "10.96.0.10" });
  });

  it("allocates inside the range, never the two reserved addresses unless asked for", async () => {
    const svc = (name: string, clusterIP?: string) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: "default" },
      spec: { ...(clusterIP ? { clusterIP } : {}), ports: [{ port: 53, protocol: "UDP" }] },
    });
    const a = await h.hub.client!.create(refs.services, "default", svc("cidr-a"));
    const ip = (a.spec as { clusterIP: string }).clusterIP;
    expect(ip).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    expect(["10.96.0.1", "10.96.0.10"]).not.toContain(ip);
    const dns = await h.hub.client!.create(refs.services, "default", svc("cidr-dns", "10.96.0.10"));
    expect((dns.spec as { clusterIP: string }).clusterIP).toBe("10.96.0.10");
  });
});
