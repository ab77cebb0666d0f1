/**
 * Waits until the hub's memory has settled after a burst, so a benchmark can report the RSS the
 * hub stays at next to the one it has right after the burst (issue 4).
 *
 * Design notes
 * - A reading right after the fleet went quiet can land before the hub's HeapReclaimer ran
 *   (it needs the loop quiet for 3 samples 2 s apart, src/lib/heap-reclaimer.ts): the quiet
 *   N = 5,000 run read 575.5 MB and, a moment later in the same stage, 449 MB. Both are facts;
 *   the second is what the hub keeps, so benches report both.
 * - "Settled" is the hub's own state, not a sleep: its CPU stays under `quietShare` of one core
 *   and its RSS moves by less than `stableBytes` for `windowMs` in a row (5 samples 2 s apart by
 *   default: longer than the reclaimer's 6 s decision, so a reclaim that is due happens inside
 *   the window and restarts it). A busy or still-shrinking hub restarts the window; at
 *   `timeoutMs` the last figure is returned with settled = false.
 */
import { cpuMs } from "./stats.js";

export interface SettleProbe {
  pid: number;
  /** RSS in bytes (HubProcess.rss: median of 3 reads) */
  rss(): number;
}

export interface SettledReading {
  settled: boolean;
  /** from the call until the window closed (or the timeout) */
  waitedSeconds: number;
  rssMB: number;
  /** RSS at the call, for the difference */
  rssAtCallMB: number;
}

export interface SettleOptions {
  sampleMs?: number;
  windowMs?: number;
  /** hub CPU below this share of one core counts as quiet (default 0.15) */
  quietShare?: number;
  stableBytes?: number;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

export async function waitHubSettled(hub: SettleProbe, o: SettleOptions = {}): Promise<SettledReading> {
  const sampleMs = o.sampleMs ?? 2000;
  const windowMs = o.windowMs ?? 10_000;
  const quietShare = o.quietShare ?? 0.15;
  const stableBytes = o.stableBytes ?? 2 * MB;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const t0 = Date.now();
  const atCall = hub.rss();
  let windowStart = Date.now();
  let lo = atCall;
  let hi = atCall;
  let cpu = cpuMs(hub.pid);
  let last = atCall;
  for (;;) {
    await sleep(sampleMs);
    const now = Date.now();
    const c = cpuMs(hub.pid);
    last = hub.rss();
    const quiet = (c - cpu) / sampleMs < quietShare;
    cpu = c;
    lo = Math.min(lo, last);
    hi = Math.max(hi, last);
    if (!quiet || hi - lo >= stableBytes) {
      windowStart = now;
      lo = last;
      hi = last;
    } else if (now - windowStart >= windowMs) {
      return { settled: true, waitedSeconds: (now - t0) / 1000, rssMB: last / MB, rssAtCallMB: atCall / MB };
    }
    if (now - t0 >= timeoutMs)
      return { settled: false, waitedSeconds: (now - t0) / 1000, rssMB: last / MB, rssAtCallMB: atCall / MB };
  }
}
