/**
 * A fixed-concurrency HTTPS load generator over keep-alive connections: N requests, C in
 * flight, each request's latency recorded. Used for the hub and for the bare echo baseline so
 * both are measured with the same client.
 */
import { Agent, request } from "node:https";

export interface LoadResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  failures?: Record<string, number>;
}

export interface Target {
  url: string;
  ca: Buffer | string;
  token?: string;
}

export async function runLoad(
  target: Target,
  total: number,
  concurrency: number,
  make: (i: number) => { method: string; path: string; body?: string },
  /** also collect every latency (ms) here, to merge several runs' percentiles */
  latencies?: number[],
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: target.ca });
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  /** what the failures were: "409 Conflict: <message>", "ECONNRESET", … with their counts */
  const failures: Record<string, number> = {};
  const fail = (what: string) => {
    errors++;
    failures[what] = (failures[what] ?? 0) + 1;
  };
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const r = make(i);
      const t0 = performance.now();
      const req = request(
        new URL(r.path, target.url),
        {
          method: r.method,
          agent,
          headers: {
            "Content-Type": "application/json",
            ...(target.token ? { Authorization: `Bearer ${target.token}` } : {}),
            ...(r.body ? { "Content-Length": Buffer.byteLength(r.body) } : {}),
          },
        },
        (res) => {
          const bad = (res.statusCode ?? 0) >= 300;
          let body = "";
          if (bad) res.on("data", (c: Buffer) => (body += c.toString()));
          else res.resume();
          res.on("end", () => {
            if (bad) {
              let msg = body.slice(0, 160);
              try {
                msg = (JSON.parse(body) as { message?: string }).message ?? msg;
              } catch {
                // not a Status object
              }
              fail(`${res.statusCode} ${r.method}: ${msg.replace(/\d+/g, "N")}`);
            }
            lat.push(performance.now() - t0);
            resolve();
          });
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message);
        resolve();
      });
      req.end(r.body);
    });
  const worker = async () => {
    while (next < total) await one(next++);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return loadResult(total, seconds, lat, errors, failures, latencies);
}

/**
 * The LoadResult of `total` requests in `seconds` with these latencies (sorted in place); the
 * latencies are also appended to `into` when given. Shared by both load generators.
 */
export function loadResult(
  total: number,
  seconds: number,
  lat: number[],
  errors: number,
  failures: Record<string, number>,
  into?: number[],
): LoadResult {
  into?.push(...lat);
  lat.sort((a, b) => a - b);
  const pick = (p: number) =>
    lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] ?? Number.NaN;
  return {
    ops: total,
    seconds,
    opsPerSec: total / seconds,
    p50ms: pick(50),
    p99ms: pick(99),
    errors,
    ...(errors ? { failures } : {}),
  };
}
