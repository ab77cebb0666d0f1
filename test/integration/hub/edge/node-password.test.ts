/**
 * Per-node MQTT passwords against a real hub: what a join stores, what the broker accepts and
 * refuses, and revocation (a deleted or replaced password closes the node's connections).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../../../src/client/client.js";
import { MAX_PASSWORD_NODE_NAME, nodePasswordSecretName } from "../../../../src/hub/edge/node-passwords.js";
import type { LinkStatus } from "../../../../src/transport/client.js";
import { JoinRefused, joinHub, mintToken, SimAgent } from "../../../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";
import { hasKubectl, need } from "../../../helpers/prereq.js";
import { uniqueNode } from "../../../helpers/transport-fixture.js";

const WAIT = { timeout: 15_000, interval: 50 };

describe.skipIf(!need(hasKubectl()))("node passwords", () => {
  let h: TestHub;
  const agents: SimAgent[] = [];
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    h = await startHub({ leaseFlushIntervalMs: 60_000 });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const a of agents) await a.stop();
    await h.stop();
  });

  async function started(node: string, joined: Awaited<ReturnType<typeof joinHub>>): Promise<SimAgent> {
    const a = new SimAgent(node, joined);
    agents.push(a);
    await a.start();
    await vi.waitFor(() => expect(a.link.connected).toBe(true), WAIT);
    return a;
  }

  /** CONNACK's return code for a raw MQTT connection (0 = accepted). */
  function connackCode(opts: { clientId: string; username?: string; password?: string }): Promise<number> {
    const c = connect(`mqtts://127.0.0.1:${h.hub.mqttAddress.port}`, {
      ...opts,
      ca: readFileSync(join(h.dataDir, "tls", "ca.crt"), "utf8"),
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    clients.push(c);
    return new Promise((resolve) => {
      c.once("connect", () => resolve(0));
      c.once("error", (err: Error & { code?: unknown }) =>
        resolve(typeof err.code === "number" ? err.code : -1),
      );
    });
  }

  it("a join stores only the password's hash, and the node connects with it", async () => {
    const node = uniqueNode("pw");
    const joined = await joinHub(h.hub.url, await mintToken(h.hub, h.dataDir), { nodeName: node });
    const password = joined.response.password ?? "";
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(joined.response.clientCert).toBeUndefined();

    const secret = (await h.hub.client!.get(refs.secrets, "kube-system", nodePasswordSecretName(node)))!;
    expect(secret).toMatchObject({
      type: "edgekube.io/node-password",
      metadata: { annotations: { "edgekube.io/node": node } },
    });
    const data = secret.data as Record<string, string>;
    expect(Object.keys(data)).toEqual(["hash"]);
    const hex = Buffer.from(data.hash ?? "", "base64").toString("utf8");
    expect(hex).toBe(createHash("sha256").update(password).digest("hex"));
    expect(JSON.stringify(secret)).not.toContain(password);

    await started(node, joined);
    await vi.waitFor(() => expect(h.hub.edgeService.broker.connectedNodes()).toContain(node), WAIT);
  });

  it("refuses a wrong password, another node's password, and a client id that is not the username", async () => {
    const a = uniqueNode("pwa");
    const b = uniqueNode("pwb");
    const token = await mintToken(h.hub, h.dataDir);
    const ja = await joinHub(h.hub.url, token, { nodeName: a });
    const jb = await joinHub(h.hub.url, token, { nodeName: b });
    const pa = ja.response.password ?? "";
    expect(await connackCode({ clientId: a, username: a, password: `${pa}x` })).toBe(4);
    expect(await connackCode({ clientId: a, username: a, password: jb.response.password ?? "" })).toBe(4);
    expect(
      await connackCode({ clientId: uniqueNode("nobody"), username: uniqueNode("nobody"), password: pa }),
    ).toBe(4);
    expect(await connackCode({ clientId: b, username: a, password: pa })).toBe(2);
    expect(await connackCode({ clientId: a })).toBe(5);
    expect(await connackCode({ clientId: a, username: a, password: pa })).toBe(0);
  });

  it("deleting the node's password Secret closes its connection and refuses the next", async () => {
    const node = uniqueNode("pwdel");
    const a = await started(
      node,
      await joinHub(h.hub.url, await mintToken(h.hub, h.dataDir), { nodeName: node }),
    );
    const statuses: LinkStatus[] = [];
    a.link.onStatus((s) => statuses.push(s));
    const out = await h.kubectl(["-n", "kube-system", "delete", "secret", nodePasswordSecretName(node)]);
    expect(out.stdout).toContain("deleted");
    await vi.waitFor(() => {
      const refused = statuses.find((s) => s.type === "disconnected" && s.authFailed);
      expect(refused?.type === "disconnected" && refused.error?.message).toMatch(
        /refused this node's username or password: re-join the node/,
      );
    }, WAIT);
    expect(h.hub.edgeService.broker.connectedNodes()).not.toContain(node);
  });

  it("a re-join replaces the password: the old one is cut off, the new one works", async () => {
    const node = uniqueNode("pwre");
    const token = await mintToken(h.hub, h.dataDir);
    const first = await joinHub(h.hub.url, token, { nodeName: node });
    const old = await started(node, first);
    const statuses: LinkStatus[] = [];
    old.link.onStatus((s) => statuses.push(s));
    const second = await joinHub(h.hub.url, token, { nodeName: node });
    expect(second.response.password).not.toBe(first.response.password);
    await vi.waitFor(
      () => expect(statuses.some((s) => s.type === "disconnected" && s.authFailed)).toBe(true),
      WAIT,
    );
    await old.stop();
    agents.splice(agents.indexOf(old), 1);
    await started(node, second);
  });

  it("a join with a certificate removes the name's password; the certificate authenticates", async () => {
    const node = uniqueNode("pwcert");
    const token = await mintToken(h.hub, h.dataDir);
    const pw = await joinHub(h.hub.url, token, { nodeName: node });
    const cert = await joinHub(h.hub.url, token, { nodeName: node }, { credential: "certificate" });
    expect(cert.response.password).toBeUndefined();
    expect(cert.response.clientCert).toContain("BEGIN CERTIFICATE");
    expect(
      await h.hub.client!.get(refs.secrets, "kube-system", nodePasswordSecretName(node)),
    ).toBeUndefined();
    expect(await connackCode({ clientId: node, username: node, password: pw.response.password ?? "" })).toBe(
      4,
    );
    await started(node, cert);
  });

  it("takes a password join for the longest name that fits its Secret, and refuses one more character", async () => {
    const label = "a".repeat(63);
    const longest = `${label}.${label}.${label}.${uniqueNode("b").padEnd(MAX_PASSWORD_NODE_NAME - 3 * 64, "b")}`;
    expect(longest.length).toBe(MAX_PASSWORD_NODE_NAME);
    const token = await mintToken(h.hub, h.dataDir);
    const ok = await joinHub(h.hub.url, token, { nodeName: longest });
    expect(ok.response.password).toBeDefined();
    const name = `${longest}b`;
    const err = await joinHub(h.hub.url, token, { nodeName: name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinRefused);
    expect((err as JoinRefused).status).toBe(422);
    expect((err as JoinRefused).message).toMatch(
      new RegExp(`nodeName: .*use at most ${MAX_PASSWORD_NODE_NAME} characters, or join with --client-cert`),
    );
  });
});
