/**
 * The convergence check every edge fault test ends with: once the fault is over, the agent's
 * cache equals the hub's desired set for the node (by key and resourceVersion), the hub holds
 * the last status the agent reported for each pod, no desired-set change was applied twice at
 * the agent, and no status generation was written twice (or after a newer one) at the hub.
 */
import { expect, vi } from "vitest";
import type { Client } from "../../src/client/client.js";
import { refs } from "../../src/client/client.js";
import type { ApplyLedger } from "./fault-agent.js";
import { agentView } from "./fault-agent.js";
import { hubDesired } from "./fault-churn.js";
import type { StatusLedger } from "./fault-hub.js";

export interface ConvergeTarget {
  client: () => Client;
  ns: string;
  node: string;
  dataDir: string;
  applied: ApplyLedger;
  /** pod name → last status generation the agent reported (in-process agents only) */
  lastReported?: Map<string, string>;
  /** hub-side status writes (in-process agents only) */
  ledger?: StatusLedger;
}

const sorted = (m: Map<string, string>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

export async function expectConverged(t: ConvergeTarget, timeout = 30_000): Promise<void> {
  await vi.waitFor(
    async () => {
      const want = await hubDesired(t.client(), t.ns, t.node);
      expect(sorted(agentView(t.dataDir, t.ns, t.node))).toEqual(sorted(want));
      if (t.lastReported) {
        const stored = await t.client().list(refs.pods, t.ns);
        const got = new Map<string, string>();
        const expected = new Map<string, string>();
        for (const p of stored.items) {
          if ((p.spec as { nodeName?: string }).nodeName !== t.node) continue;
          const name = p.metadata.name ?? "";
          got.set(name, String((p.status as { message?: unknown } | undefined)?.message));
          expected.set(name, t.lastReported.get(name) ?? "(never reported)");
        }
        expect(sorted(got)).toEqual(sorted(expected));
      }
    },
    { timeout, interval: 250 },
  );
  expect(t.applied.duplicates()).toEqual([]);
  if (t.ledger) expect(t.ledger.problems()).toEqual([]);
}
