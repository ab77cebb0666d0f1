/**
 * The wss:// edge link dials TCP itself (link-connect.ts), like mqtts://, so its failures are
 * classed the same way: a hub address that resets the SYN is "answered" (backoff), one whose
 * SYNs vanish (iptables DROP inside a namespace the test made) is "unreachable" within the TCP
 * connect timeout (probe). Before, mqtt.js dialed wss itself and a black hole surfaced only as a
 * 30 s CONNACK timeout, read as "answered".
 */
import { describe, expect, it, vi } from "vitest";
import { EdgeLink, type LinkStatus } from "../../../src/transport/client.js";
import { TcpConnectTimeoutError } from "../../../src/transport/dialer.js";
import { namespacedLink } from "../../helpers/netns-link.js";
import { hasRoot, need } from "../../helpers/prereq.js";
import { makePki, uniqueNode } from "../../helpers/transport-fixture.js";

type Down = Extract<LinkStatus, { type: "disconnected" }>;

describe("edge fault: wss link into a black hole", () => {
  it.skipIf(!need(hasRoot()))(
    "classes a refused wss connect as answered and an unanswered one as unreachable",
    async () => {
      const { rig, agentIp, blackHole } = await namespacedLink("ekw");
      const pki = await makePki();
      const node = uniqueNode("wss");
      const kp = await pki.node(node);
      const link = new EdgeLink({
        // nothing listens in the namespace: the kernel there answers a SYN with a RST
        url: `wss://${agentIp}:6443/mqtt`,
        node,
        ca: pki.ca.certPem,
        cert: kp.certPem,
        key: kp.keyPem,
        tcpConnectTimeoutMs: 400,
        // the old mqtt.js dial would have waited this long before failing a black-holed connect
        connectTimeoutMs: 30_000,
        backoff: { baseMs: 50, maxMs: 200 },
      });
      const downs: Down[] = [];
      link.onStatus((s) => s.type === "disconnected" && downs.push(s));
      rig.defer(() => link.stop());
      await link.start();

      await vi.waitFor(() => expect(downs.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
      for (const d of downs.splice(0)) {
        expect(d.failure).toBe("answered");
        expect((d.error as { code?: string } | undefined)?.code).toBe("ECONNREFUSED");
      }

      await blackHole(true);
      await vi.waitFor(
        () => expect(downs.filter((d) => d.failure === "unreachable").length).toBeGreaterThanOrEqual(2),
        { timeout: 15_000 },
      );
      // an attempt already past its SYN when the DROP went in may still have been refused
      const unreachable = downs.filter((d) => d.failure === "unreachable");
      for (const d of unreachable) {
        expect(d.error).toBeInstanceOf(TcpConnectTimeoutError);
        expect(d.error?.message).toMatch(/no answer from the hub at .* within 400 ms \(TCP connect\)/);
        // the next probe starts 0.5–2 s after the start of this one (a 400 ms dial)
        const sinceStart = (d.attemptMs ?? 0) + d.retryInMs;
        expect(d.attemptMs).toBeGreaterThanOrEqual(390);
        expect(sinceStart).toBeGreaterThanOrEqual(499);
        expect(sinceStart).toBeLessThanOrEqual(2001);
      }
      expect(link.connected).toBe(false);
    },
    60_000,
  );
});
