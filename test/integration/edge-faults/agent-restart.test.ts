/**
 * Agent restart while the hub is down (a device reboot with the hub unreachable): the hub stops,
 * both agents — an `edge-agent run` child process and an in-process EdgeAgent — are stopped and
 * started again from their data dirs. They come up without the hub, serve exactly the set they
 * cached (nothing deleted, nothing re-applied), keep queueing status, and converge once the hub
 * is back: changes made on the hub meanwhile arrive, status reaches it, nothing twice.
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { agentPaths } from "../../../src/edge-agent/config.js";
import { collectStatus, formatStatus } from "../../../src/edge-agent/status-report.js";
import { agentView } from "../../helpers/fault-agent.js";
import { expectConverged } from "../../helpers/fault-check.js";
import { FaultRig } from "../../helpers/fault-rig.js";
import { hasKubectl, need } from "../../helpers/prereq.js";

const ROOT = resolve(import.meta.dirname, "../../..");
let rig: FaultRig;
beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
});
afterEach(async () => {
  await rig.cleanup();
});

describe.skipIf(!need(hasKubectl()))("edge fault: agent restart while the hub is down", () => {
  it("restores from the cache offline, then converges with no lost or duplicated update", async () => {
    rig = new FaultRig();
    await rig.startHub();
    const ledger = rig.ledger();
    const proxy = await rig.proxy();
    const a = await rig.agent(proxy);
    const { node: childNode, child } = await rig.childAgent(`mqtts://127.0.0.1:${proxy.port}`);
    child.start();
    const churn = rig.churn(a.node);
    const childChurn = rig.churn(childNode);
    a.startStatusChurn(250);
    const childDir = child.dataDir;
    await vi.waitFor(
      () => {
        expect(collectStatus(agentPaths(childDir)).status?.connected).toBe(true);
        expect(agentView(childDir, rig.ns, childNode).size).toBeGreaterThan(3);
        expect(childChurn.steps).toBeGreaterThan(10);
      },
      { timeout: 20_000, interval: 250 },
    );

    await rig.hub.stop();
    await vi.waitFor(() => expect(a.connected).toBe(false), { timeout: 5_000 });
    const before = { a: agentView(a.dataDir, rig.ns, a.node), c: agentView(childDir, rig.ns, childNode) };
    const appliedBefore = { a: a.applied.size, c: child.applied.size };
    expect(before.c.size).toBeGreaterThan(3);
    expect(appliedBefore.c).toBeGreaterThan(3); // the child's change log is being read

    // the reboot: both agents stop and start again from their data dirs, the hub unreachable
    await a.stop();
    await child.stop();
    await a.start();
    a.startStatusChurn(250);
    child.start();
    await vi.waitFor(
      () => {
        const s = formatStatus(collectStatus(agentPaths(childDir)));
        expect(s).toMatch(/connection: +disconnected since/);
        expect(s).toMatch(/core\/pods=\d/);
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(a.connected).toBe(false);
    const pods = [...before.a.keys()].filter((k) => k.startsWith("core/pods/")).length;
    expect(a.agent?.cache.pods().filter((p) => p.metadata?.namespace === rig.ns)).toHaveLength(pods);
    expect(agentView(a.dataDir, rig.ns, a.node)).toEqual(before.a);
    expect(agentView(childDir, rig.ns, childNode)).toEqual(before.c);
    // restored, not re-applied: no change event fired on start-up
    expect({ a: a.applied.size, c: child.applied.size }).toEqual(appliedBefore);
    await vi.waitFor(() => expect(a.agent?.pendingStatus()).toBeGreaterThan(0), { timeout: 5_000 });

    await rig.hub.start();
    await vi.waitFor(() => expect(collectStatus(agentPaths(childDir)).status?.connected).toBe(true), {
      timeout: 30_000,
      interval: 250,
    });
    const steps = childChurn.steps;
    await vi.waitFor(() => expect(childChurn.steps).toBeGreaterThan(steps + 5), { timeout: 15_000 });
    await childChurn.stop();
    await rig.settle(a, churn, ledger);
    await expectConverged({
      client: () => rig.mustClient(),
      ns: rig.ns,
      node: childNode,
      dataDir: childDir,
      applied: child.applied,
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nchild log:\n${child.logTail()}`);
    });
    expect(child.applied.size).toBeGreaterThan(appliedBefore.c);
    expect(child.running).toBe(true);
  }, 150_000);
});
