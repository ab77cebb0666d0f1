/**
 * Short probe dials (reconnect-policy.ts): an `edge-agent run` child that has connected knows how
 * long its TCP connects take, so once its hub is gone into a black hole (iptables DROP inside the
 * child's namespace: real SYN loss) every probe gives up after 1.5 s instead of 3.5 s, and the next probe starts 0.5–2 s after the start of the failed one. A heal is then seen
 * within about a second of the next SYN, instead of up to 2 s later (the kernel's SYN
 * retransmissions of a 3.5 s dial come at 1 and 3 s).
 * The hub is stopped first (the child sees the close and is refused, "answered"), then the link
 * is black-holed, then both come back.
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { agentPaths } from "../../../src/edge-agent/config.js";
import { collectStatus } from "../../../src/edge-agent/status-report.js";
import { namespacedLink } from "../../helpers/netns-link.js";
import { hasKubectl, hasRoot, need } from "../../helpers/prereq.js";

const ROOT = resolve(import.meta.dirname, "../../..");
beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
});

describe("edge fault: probe dials after a connection", () => {
  it.skipIf(!need(hasKubectl(), hasRoot()))(
    "gives up on each probe after 1.5 s once the link's connect time is known, and reconnects after the heal",
    async () => {
      const { rig, ns, hubIp, blackHole } = await namespacedLink("ekq");
      await rig.startHub();
      const { child } = await rig.childAgent(`mqtts://${hubIp}:${rig.hub.ports.mqtt}`, ns);
      const { records: log, off } = child.linkLog();
      onTestFinished(off);
      child.start();
      const paths = agentPaths(child.dataDir);
      const connects = () => log.filter((l) => l.msg === "edge link connected").length;
      await vi.waitFor(() => expect(connects()).toBe(1), { timeout: 30_000, interval: 100 });

      await rig.hub.stop();
      const downs = () => log.filter((l) => l.msg === "edge link down; reconnecting");
      await vi.waitFor(() => expect(downs().some((d) => d.failure === "answered")).toBe(true), {
        timeout: 15_000,
        interval: 100,
      });
      await blackHole(true);
      const unreachable = () => downs().filter((d) => d.failure === "unreachable");
      await vi.waitFor(() => expect(unreachable().length).toBeGreaterThanOrEqual(4), {
        timeout: 40_000,
        interval: 250,
      });
      // every dial gives up after 1.5 s (4 × a LAN's connect time, at least 1.5 s), not 3.5 s
      for (const d of unreachable()) {
        expect(d.attemptMs).toBeGreaterThanOrEqual(1400);
        expect(d.attemptMs).toBeLessThan(2500);
        // the next probe starts 0.5–2 s after the start of this one
        expect((d.attemptMs ?? 0) + (d.retryInMs ?? 0)).toBeLessThanOrEqual(2100);
      }
      expect(collectStatus(paths).status?.connected).toBe(false);

      await rig.hub.start();
      await blackHole(false);
      await vi.waitFor(() => expect(connects()).toBe(2), { timeout: 15_000, interval: 100 });
    },
    120_000,
  );
});
