/**
 * Polling bench/sync's agent workers: their reports summed, until a condition holds or a
 * deadline passes, with the failed connects, errors and TLS handshakes counted meanwhile
 * (each report resets the worker's counters, so every poll's counts are added up here).
 */
import type { AgentWorker } from "./agent-workers.js";
import type { WorkerReport } from "./sync-agents.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const sumOf = (r: WorkerReport[], f: (x: WorkerReport) => number) => r.reduce((a, x) => a + f(x), 0);

export async function reports(workers: AgentWorker[]): Promise<WorkerReport[]> {
  return Promise.all(workers.map((w) => w.call<WorkerReport>({ cmd: "report" })));
}

export interface Polled {
  reports: WorkerReport[];
  timedOut: boolean;
  failedAttempts: number;
  errors: Record<string, number>;
  /** the agents' successful TLS handshakes meanwhile: resumed from a ticket vs full */
  tlsHandshakes: { resumed: number; full: number };
}

export async function pollUntil(
  workers: AgentWorker[],
  done: (r: WorkerReport[]) => boolean,
  timeoutMs: number,
): Promise<Polled> {
  const end = Date.now() + timeoutMs;
  let failedAttempts = 0;
  const errors: Record<string, number> = {};
  const tlsHandshakes = { resumed: 0, full: 0 };
  for (;;) {
    const r = await reports(workers);
    failedAttempts += r.reduce((a, x) => a + x.failedAttempts, 0);
    tlsHandshakes.resumed += sumOf(r, (x) => x.tlsResumed);
    tlsHandshakes.full += sumOf(r, (x) => x.tlsFull);
    for (const x of r) for (const [k, n] of Object.entries(x.errors)) errors[k] = (errors[k] ?? 0) + n;
    if (done(r)) return { reports: r, timedOut: false, failedAttempts, errors, tlsHandshakes };
    if (Date.now() > end) return { reports: r, timedOut: true, failedAttempts, errors, tlsHandshakes };
    await sleep(200);
  }
}
