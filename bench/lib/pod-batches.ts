/**
 * bench/pods' apply→Running batches: create `n` pods at once on the hub, wait until a watch
 * saw each Running, and clear the namespace between batches.
 *
 * Design notes
 * - Latency is measured from each pod's own create request (performance.now() just before it
 *   is sent) to the moment the watch callback saw it Running, so a slow create of one pod does
 *   not shift the others' figures. Wall-clock times per pod uid are kept beside it: the agent's
 *   debug log is in wall-clock time and pod-trace.ts joins the two by uid.
 * - Polling with a deadline (until) rather than sleeping: on a loaded machine a fixed wait is
 *   either too short or wastes the run.
 */
import type { HttpClient } from "../../src/client/http-client.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every 100 ms until it yields a value; throws naming `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** A bench pod: one busybox container running `script`, bound to `node`, never pulled. */
export function podManifest(name: string, image: string, script: string, node: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { bench: "pods" } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "c", image, imagePullPolicy: "Never", command: ["sh", "-c", script] }],
    },
  };
}

/** Deletes every pod of the namespace and waits until the hub lists none. */
export async function deleteAll(api: HttpClient, ns: string): Promise<void> {
  const list = await api.get<{ items: { metadata: { name: string } }[] }>(`/api/v1/namespaces/${ns}/pods`);
  await Promise.all(list.items.map((p) => api.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`)));
  await until("every pod to be gone", async () => {
    const l = await api.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/pods`);
    return l.items.length === 0 ? true : undefined;
  });
}

/** Wall-clock times (ms) per pod uid of one batch, for the phase breakdown. */
export interface BatchTimes {
  created: Map<string, number>;
  running: Map<string, number>;
}

/** Where a batch goes: the namespace, the node its pods are bound to, their image. */
export interface BatchTarget {
  ns: string;
  node: string;
  image: string;
}

/**
 * Creates `n` pods at once; resolves with each pod's create → Running latency (ms), sorted.
 * `running` is filled by the caller's watch (pod name → when it was first seen Running).
 */
export async function batch(
  api: HttpClient,
  target: BatchTarget,
  running: Map<string, { perf: number; wall: number }>,
  n: number,
  run: number,
): Promise<{ ms: number[]; times: BatchTimes }> {
  const names = Array.from({ length: n }, (_, i) => `b${n}-r${run}-${i}`);
  const sent = new Map<string, { perf: number; wall: number }>();
  const uids = new Map<string, string>();
  await Promise.all(
    names.map(async (name) => {
      sent.set(name, { perf: performance.now(), wall: Date.now() });
      const p = await api.post<{ metadata: { uid: string } }>(
        `/api/v1/namespaces/${target.ns}/pods`,
        podManifest(name, target.image, "exec sleep 3600", target.node),
      );
      uids.set(name, p.metadata.uid);
    }),
  );
  await until(`${n} pods to run`, async () => (names.every((x) => running.has(x)) ? true : undefined));
  const times: BatchTimes = { created: new Map(), running: new Map() };
  for (const x of names) {
    const uid = uids.get(x) ?? "";
    times.created.set(uid, sent.get(x)?.wall ?? 0);
    times.running.set(uid, running.get(x)?.wall ?? 0);
  }
  const ms = names.map((x) => (running.get(x)?.perf ?? 0) - (sent.get(x)?.perf ?? 0)).sort((a, b) => a - b);
  return { ms, times };
}
