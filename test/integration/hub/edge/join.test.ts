/**
 * Join against a real in-process hub: /cacerts, the CA pin, bootstrap-token auth, CSR checks,
 * Node registration with facts, and the `edge-hub token` commands over HTTPS.
 */
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refs } from "../../../../src/client/client.js";
import { tokenMain } from "../../../../src/cmd/hub-token.js";
import { formatJoinToken, parseJoinToken } from "../../../../src/lib/join-token.js";
import { certIdentity } from "../../../../src/lib/pki.js";
import { FACTS, fetchPinnedCA, JoinRefused, joinHub, mintToken } from "../../../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { hasKubectl, need } from "../../../helpers/prereq.js";
import { uniqueNode } from "../../../helpers/transport-fixture.js";

describe.skipIf(!need(hasKubectl()))("join", () => {
  let h: TestHub;
  let url: string;
  beforeAll(async () => {
    h = await startHub();
    url = h.hub.url;
  });
  afterAll(async () => {
    await h.stop();
  });

  it("serves the CA without auth and the token pins it", async () => {
    const token = await mintToken(h.hub, h.dataDir);
    const ca = await fetchPinnedCA(url, token);
    expect(ca).toContain("BEGIN CERTIFICATE");
  });

  it("registers the node with its facts and issues a node certificate", async () => {
    const node = uniqueNode("join");
    const token = await mintToken(h.hub, h.dataDir);
    const { response } = await joinHub(
      url,
      token,
      {
        nodeName: node,
        labels: { "site.example.com/room": "lab" },
        taints: [{ key: "edge", value: "true", effect: "NoSchedule" }],
      },
      { credential: "certificate" },
    );
    expect(response.nodeName).toBe(node);
    expect(response.password).toBeUndefined();
    expect(certIdentity(response.clientCert ?? "")).toEqual({
      commonName: `system:node:${node}`,
      organizations: ["system:nodes"],
    });
    expect(
      new X509Certificate(response.clientCert ?? "").verify(new X509Certificate(response.ca).publicKey),
    ).toBe(true);
    expect(response.mqtt.url).toBe(`mqtts://127.0.0.1:${h.hub.mqttAddress.port}`);
    expect(response.mqtt.wsUrl).toBe(`${url.replace("https:", "wss:")}/mqtt`);
    expect(response).toMatchObject({
      clusterCIDR: "10.42.0.0/16",
      serviceCIDR: "10.43.0.0/16",
      clusterDNS: "10.43.0.10",
      clusterDomain: "cluster.local",
    });

    const n = (await h.hub.client!.get(refs.nodes, undefined, node))!;
    expect(n.metadata.labels).toMatchObject({
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/os": "linux",
      "kubernetes.io/hostname": FACTS.hostname,
      "site.example.com/room": "lab",
    });
    expect((n.spec as { taints?: unknown[] }).taints).toEqual([
      { key: "edge", value: "true", effect: "NoSchedule" },
    ]);
    const status = n.status as Record<string, Record<string, unknown>>;
    expect(status.capacity).toEqual({
      cpu: "4",
      memory: "4194304Ki",
      pods: "110",
      "ephemeral-storage": "33554432Ki",
    });
    expect(status.nodeInfo).toMatchObject({
      architecture: "amd64",
      kernelVersion: "6.1.0-test",
      bootID: "boot-1",
    });
    expect(status.addresses).toEqual([
      { type: "InternalIP", address: "198.51.100.7" },
      { type: "Hostname", address: FACTS.hostname },
    ]);
    const out = await h.kubectl(["get", "node", node, "-o", "wide", "--no-headers"]);
    expect(out.stdout).toMatch(new RegExp(`^${node}\\s+Ready\\s`));
    expect(out.stdout).toContain("198.51.100.7");

    // re-joining the same name is allowed and issues a fresh certificate
    const again = await joinHub(url, token, { nodeName: node }, { credential: "certificate" });
    expect(again.response.clientCert).not.toBe(response.clientCert);
  });

  it("refuses a token pinned to another CA with a clear error", async () => {
    const good = parseJoinToken(await mintToken(h.hub, h.dataDir));
    const other = formatJoinToken("ab".repeat(32), good.id, good.secret);
    await expect(joinHub(url, other, { nodeName: uniqueNode("pin") })).rejects.toThrow(
      /presented CA sha256:[0-9a-f]{64}, but the join token expects sha256:(ab){32}: the token is for another hub/,
    );
  });

  it("answers 401 for a wrong secret and for an expired token (which is then deleted)", async () => {
    const t = parseJoinToken(await mintToken(h.hub, h.dataDir));
    const wrong = formatJoinToken(t.caHash, t.id, "x".repeat(16));
    const err = await joinHub(url, wrong, { nodeName: uniqueNode("bad") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinRefused);
    expect((err as JoinRefused).status).toBe(401);
    expect((err as JoinRefused).message).toMatch(
      /not valid or has expired: create a new token .*edge-hub token create/,
    );

    const expired = await mintToken(h.hub, h.dataDir, { expiration: new Date(Date.now() - 1000) });
    const e2 = await joinHub(url, expired, { nodeName: uniqueNode("old") }).catch((e: unknown) => e);
    expect((e2 as JoinRefused).status).toBe(401);
    const id = parseJoinToken(expired).id;
    expect(await h.hub.client!.get(refs.secrets, "kube-system", `bootstrap-token-${id}`)).toBeUndefined();
  });

  it("answers 422 for an invalid node name and for a CSR naming another node", async () => {
    const token = await mintToken(h.hub, h.dataDir);
    const e1 = (await joinHub(
      url,
      token,
      { nodeName: "Bad_Name" },
      { csrSubject: { cn: "system:node:Bad_Name", orgs: ["system:nodes"] } },
    ).catch((e: unknown) => e)) as JoinRefused;
    expect(e1.status).toBe(422);
    expect(e1.message).toContain("nodeName");
    const e2 = (await joinHub(
      url,
      token,
      { nodeName: uniqueNode("csr") },
      { csrSubject: { cn: "system:node:someone-else", orgs: ["system:nodes"] } },
    ).catch((e: unknown) => e)) as JoinRefused;
    expect(e2.status).toBe(422);
    expect(e2.message).toMatch(/csr: the CSR asks for CN "system:node:someone-else"/);
  });

  it("edge-hub token create|list|delete work against the running hub", async () => {
    const out: string[] = [];
    const write = (s: string) => out.push(s);
    expect(
      await tokenMain(
        ["create", "--ttl", "2h", "--description", "lab pis", "--data-dir", h.dataDir],
        write,
        "/nonexistent",
      ),
    ).toBe(0);
    const token = out.join("").trim();
    const { id } = parseJoinToken(token);
    const { response } = await joinHub(url, token, { nodeName: uniqueNode("cli") });
    expect(response.password).toMatch(/^[A-Za-z0-9_-]{43}$/);

    out.length = 0;
    await tokenMain(["list", "--data-dir", h.dataDir], write, "/nonexistent");
    const line = out
      .join("")
      .split("\n")
      .find((l) => l.startsWith(id));
    expect(line).toMatch(new RegExp(`^${id}\\s+(1h|2h)\\s+\\S+Z\\s+lab pis$`));

    out.length = 0;
    await tokenMain(["delete", id, "--data-dir", h.dataDir], write, "/nonexistent");
    expect(out.join("")).toContain(`join token ${id} deleted`);
    const e = (await joinHub(url, token, { nodeName: uniqueNode("cli") }).catch(
      (x: unknown) => x,
    )) as JoinRefused;
    expect(e.status).toBe(401);
    await expect(tokenMain(["delete", id, "--data-dir", h.dataDir], write, "/nonexistent")).rejects.toThrow(
      /no join token with id/,
    );
  });
});
