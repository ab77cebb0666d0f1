/**
 * HubChurn: keeps changing one node's desired state on the hub while a fault runs — pods bound
 * to the node created, relabelled and deleted (gracefully, so the agent's final status report
 * completes the delete, or at once), and the ConfigMaps they mount edited — plus `hubDesired`,
 * the oracle the agent's cache is compared with.
 *
 * Design notes
 * - The hub's store is the truth: every step lists the namespace and picks its operation from
 *   what is there, so a step that fails because the hub is down or restarting (or that
 *   succeeded in the store just before a stop) leaves nothing for the test to track.
 * - Pod names are never reused, so a status report can only ever belong to one pod.
 * - The oracle is computed from the store by the test's own rules (pods with spec.nodeName ==
 *   node, the ConfigMaps they mount, the Node itself), not from the hub's desired index, so it
 *   checks the index too.
 */
import type { KubeObject } from "../../src/api/object.js";
import { type Client, refs } from "../../src/client/client.js";

export const CONFIGMAPS = ["cm-0", "cm-1", "cm-2"];

export function churnPod(name: string, node: string, cm: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "fault" } },
    spec: {
      nodeName: node,
      containers: [{ name: "c", image: "busybox" }],
      volumes: [{ name: "cfg", configMap: { name: cm } }],
    },
  };
}

/** Creates the namespace and its ConfigMaps. */
export async function seedNamespace(client: Client, ns: string): Promise<void> {
  await client.create(refs.namespaces, undefined, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: ns },
  });
  for (const name of CONFIGMAPS) {
    await client.create(refs.configmaps, ns, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { v: "0" },
    });
  }
}

export class HubChurn {
  /** operations that reached the store (failed ones are not counted) */
  steps = 0;
  private serial = 0;
  /** pod names are `<prefix>-<n>`: unique per churn, so two churns can share a namespace */
  private readonly prefix = `p${Math.floor(Math.random() * 1e6).toString(36)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: () => Client | undefined,
    readonly ns: string,
    readonly node: string,
    private readonly maxPods = 8,
  ) {}

  /** One operation every `everyMs` until stop(). */
  start(everyMs: number): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.step()
        .catch(() => undefined) // the hub is down or restarting: skip this beat
        .finally(() => {
          this.running = undefined;
        });
    }, everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async step(): Promise<void> {
    const c = this.client();
    if (!c) return;
    const pods = (await c.list(refs.pods, this.ns)).items.filter(
      (p) => !p.metadata.deletionTimestamp && (p.spec as { nodeName?: string }).nodeName === this.node,
    );
    const n = ++this.serial;
    const pick = <T>(xs: T[]): T => xs[n % xs.length]!;
    const r = Math.random();
    if (pods.length < 2 || (r < 0.35 && pods.length < this.maxPods)) {
      await c.create(refs.pods, this.ns, churnPod(`${this.prefix}-${n}`, this.node, pick(CONFIGMAPS)));
    } else if (r < 0.6) {
      const p = pick(pods);
      await c.mutate(refs.pods, this.ns, p.metadata.name!, (cur) => ({
        ...cur,
        metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, step: String(n) } },
      }));
    } else if (r < 0.8) {
      await c.mutate(refs.configmaps, this.ns, pick(CONFIGMAPS), (cur) => ({
        ...cur,
        data: { v: String(n) },
      }));
    } else {
      // graceful deletes wait for the agent's final status; the others go at once
      const grace = r < 0.9 ? {} : { gracePeriodSeconds: 0 };
      await c.delete(refs.pods, this.ns, pick(pods).metadata.name!, grace);
    }
    this.steps++;
  }
}

/** The node's desired set within the test namespace (plus its Node), key → resourceVersion. */
export async function hubDesired(client: Client, ns: string, node: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const mounted = new Set<string>();
  for (const p of (await client.list(refs.pods, ns)).items) {
    if ((p.spec as { nodeName?: string } | undefined)?.nodeName !== node) continue;
    out.set(`core/pods/${ns}/${p.metadata.name}`, p.metadata.resourceVersion ?? "");
    for (const name of mountedConfigMaps(p)) mounted.add(name);
  }
  for (const cm of (await client.list(refs.configmaps, ns)).items) {
    const name = cm.metadata.name ?? "";
    if (mounted.has(name)) out.set(`core/configmaps/${ns}/${name}`, cm.metadata.resourceVersion ?? "");
  }
  const n = await client.get(refs.nodes, undefined, node);
  // agents hold a view of each Node without a resourceVersion (src/hub/edge/node-view.ts):
  // the Node counts by presence
  if (n) out.set(`core/nodes/${node}`, "present");
  return out;
}

interface Volume {
  configMap?: { name?: string };
  projected?: { sources?: Array<{ configMap?: { name?: string } }> };
}

/** ConfigMaps a pod mounts, directly or through a projected volume (the API server may add one). */
function mountedConfigMaps(p: KubeObject): string[] {
  const vols = (p.spec as { volumes?: Volume[] } | undefined)?.volumes ?? [];
  const out: string[] = [];
  for (const v of vols) {
    if (v.configMap?.name) out.push(v.configMap.name);
    for (const s of v.projected?.sources ?? []) if (s.configMap?.name) out.push(s.configMap.name);
  }
  return out;
}
