/**
 * Black-holed link: packets vanish silently (no RST, no FIN), so neither end learns of it from
 * the socket; only keepalives can. Two variants, run concurrently:
 * - the test's TCP proxy in black-hole mode in front of an in-process agent (keepalive 2 s);
 * - an `edge-agent run` child in a network namespace made by the test, joined to the hub over a
 *   veth pair, with iptables DROP rules inside that namespace (default keepalive, 30 s).
 * Each asserts that the agent notices within 2× its keepalive, that the hub marks the node's link
 * lost (last-will), and that after the packets flow again both views converge with no lost or
 * duplicated update and the Node turns Ready again.
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import { type Client, refs } from "../../../src/client/client.js";
import { agentPaths } from "../../../src/edge-agent/config.js";
import { collectStatus } from "../../../src/edge-agent/status-report.js";
import { agentView } from "../../helpers/fault-agent.js";
import { expectConverged } from "../../helpers/fault-check.js";
import { churningAgent } from "../../helpers/fault-rig.js";
import { namespacedLink } from "../../helpers/netns-link.js";
import { hasKubectl, hasRoot, need } from "../../helpers/prereq.js";

const ROOT = resolve(import.meta.dirname, "../../..");
beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
});

async function ready(c: Client, node: string): Promise<string | undefined> {
  const n: KubeObject | undefined = await c.get(refs.nodes, undefined, node);
  const conds = (n?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)
    ?.conditions;
  return conds?.find((x) => x.type === "Ready")?.status;
}

describe.concurrent("edge fault: black-holed link", () => {
  it.skipIf(!need(hasKubectl()))(
    "proxy black hole: keepalive notices, the views converge",
    async () => {
      const { rig, ledger, proxy, a, churn } = await churningAgent({
        statusEveryMs: 250,
        agent: { keepaliveSeconds: 2 },
      });
      await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(8), { timeout: 10_000 });

      proxy.setMode("blackhole");
      await vi.waitFor(() => expect(a.connected).toBe(false), { timeout: 4_500, interval: 50 }); // 2× keepalive
      await vi.waitFor(async () => expect(await ready(rig.mustClient(), a.node)).toBe("Unknown"), {
        timeout: 10_000,
      });
      const steps = churn.steps;
      await vi.waitFor(() => expect(churn.steps).toBeGreaterThan(steps + 10), { timeout: 10_000 });
      expect(a.connected).toBe(false); // reconnects land in the black hole too

      proxy.setMode("pass");
      await rig.settle(a, churn, ledger);
      await vi.waitFor(async () => expect(await ready(rig.mustClient(), a.node)).toBe("True"), {
        timeout: 10_000,
      });
    },
    120_000,
  );

  it.skipIf(!need(hasKubectl(), hasRoot()))(
    "iptables DROP in the agent's namespace: keepalive notices, the views converge",
    async () => {
      const { rig, ns, hubIp, blackHole } = await namespacedLink("ekf");
      await rig.startHub();
      const { node, child } = await rig.childAgent(`mqtts://${hubIp}:${rig.hub.ports.mqtt}`, ns);
      child.start();
      const churn = rig.churn(node);
      const paths = agentPaths(child.dataDir);
      await vi.waitFor(
        () => {
          expect(collectStatus(paths).status?.connected).toBe(true);
          expect(agentView(child.dataDir, rig.ns, node).size).toBeGreaterThan(3);
        },
        { timeout: 30_000, interval: 250 },
      );

      await blackHole(true);
      // keepalive 30 s: the agent gives up within 2× that, the hub (1.5× keepalive) fires the will
      await vi.waitFor(() => expect(collectStatus(paths).status?.connected).toBe(false), {
        timeout: 62_000,
        interval: 500,
      });
      await vi.waitFor(async () => expect(await ready(rig.mustClient(), node)).toBe("Unknown"), {
        timeout: 20_000,
        interval: 500,
      });
      await blackHole(false);

      await churn.stop();
      await expectConverged(
        { client: () => rig.mustClient(), ns: rig.ns, node, dataDir: child.dataDir, applied: child.applied },
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nchild log:\n${child.logTail()}`);
      });
      await vi.waitFor(async () => expect(await ready(rig.mustClient(), node)).toBe("True"), {
        timeout: 10_000,
      });
      expect(churn.steps).toBeGreaterThan(20);
    },
    170_000,
  );
});
