/**
 * Reconnect after a black hole: an `edge-agent run` child in a network namespace made by the
 * test, joined to the hub over a veth pair, whose link to the hub is black-holed by iptables DROP
 * rules inside that namespace (real kernel SYN loss: connect() neither completes nor fails).
 * The agent is restarted while the link is dead (a device rebooting offline), so it starts with
 * connects that go unanswered. It must read that as "unreachable" and keep probing at the short
 * interval (not back off exponentially towards 30 s), and once the rules are gone it must
 * reconnect within a few probe intervals and converge with the hub's changes made meanwhile.
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { agentPaths } from "../../../src/edge-agent/config.js";
import { collectStatus } from "../../../src/edge-agent/status-report.js";
import { agentView } from "../../helpers/fault-agent.js";
import { expectConverged } from "../../helpers/fault-check.js";
import { namespacedLink } from "../../helpers/netns-link.js";
import { hasKubectl, hasRoot, need } from "../../helpers/prereq.js";

const ROOT = resolve(import.meta.dirname, "../../..");
beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
});

describe("edge fault: reconnect after a black hole", () => {
  it.skipIf(!need(hasKubectl(), hasRoot()))(
    "probes an unreachable hub every few seconds and reconnects soon after the DROP is lifted",
    async () => {
      const { rig, ns, hubIp, blackHole } = await namespacedLink("ekr");
      await rig.startHub();
      const { node, child } = await rig.childAgent(`mqtts://${hubIp}:${rig.hub.ports.mqtt}`, ns);
      child.start();
      const paths = agentPaths(child.dataDir);
      await vi.waitFor(() => expect(collectStatus(paths).status?.connected).toBe(true), {
        timeout: 30_000,
        interval: 250,
      });

      // the link dies, and the device reboots while it is dead
      await blackHole(true);
      await child.stop();
      const churn = rig.churn(node);
      const { records: log, off } = child.linkLog();
      onTestFinished(off);
      const downs = () => log.filter((l) => l.msg === "edge link down; reconnecting");
      const connects = () => log.filter((l) => l.msg === "edge link connected").length;
      child.start();
      // unanswered SYNs: the TCP connect timeout ends each attempt, read as "unreachable",
      // and the next probe is scheduled within the probe bounds, attempt after attempt
      await vi.waitFor(
        () => {
          expect(downs().filter((d) => d.failure === "unreachable").length).toBeGreaterThanOrEqual(3);
        },
        { timeout: 40_000, interval: 500 },
      );
      expect(connects()).toBe(0);
      for (const d of downs()) {
        expect(d.failure).toBe("unreachable");
        // a probe every 0.5–2 s counted from the start of the failed one: this agent restarted
        // without a TCP connect time to size short dials from, so each dial waited the full
        // 3.5 s and the next one starts at once
        expect(d.attemptMs).toBeGreaterThanOrEqual(3400);
        expect(d.retryInMs).toBe(0);
        expect(d.err).toMatch(/no answer from the hub at .* \(TCP connect\)/);
      }
      expect(collectStatus(paths).status?.connected).toBe(false);

      // the link returns: back within a few probe intervals (probe ≤ 2 s + TCP timeout 3.5 s)
      await blackHole(false);
      await vi.waitFor(() => expect(connects()).toBe(1), { timeout: 10_000, interval: 100 });
      await vi.waitFor(() => expect(collectStatus(paths).status?.connected).toBe(true), {
        timeout: 10_000,
        interval: 250,
      });

      await churn.stop();
      expect(churn.steps).toBeGreaterThan(5);
      await expectConverged(
        { client: () => rig.mustClient(), ns: rig.ns, node, dataDir: child.dataDir, applied: child.applied },
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nchild log:\n${child.logTail()}`);
      });
      expect(agentView(child.dataDir, rig.ns, node).size).toBeGreaterThan(0);
    },
    150_000,
  );
});
