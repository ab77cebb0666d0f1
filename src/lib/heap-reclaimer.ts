/**
 * Gives V8 heap memory back after a burst (joins, a connect or reconnect storm, a pod wave) once
 * the process has gone quiet, instead of waiting for V8's own memory reducer (issue 4).
 *
 * Design notes
 * - A burst leaves V8's heap committed far above what stays live: the young generation grows to
 *   2 × 16 MiB (heap-tuning.ts lets it grow after start-up) and old space is committed for the
 *   garbage the burst produced between two full GCs (`--heap-growing-percent=50`). V8 returns
 *   it only when its memory reducer runs, and that waits for a "low allocation rate": a hub
 *   with thousands of agents pinging and leases flushed every 15 s rarely qualifies, so the
 *   reducer starts from its watchdog (≈100 s after the last full GC). Until then the slack is
 *   resident: bench/sync at N = 5,000 measured old space 233 MB committed for 126 MB used and
 *   a 32 MB young generation after the first connect (docs/hub-memory.md).
 * - Trigger: the committed heap grew by `minGrowthBytes` (and by `minGrowthRatio` of itself)
 *   since the last reclaim, and the event loop was quiet (utilisation below `quietElu`) for
 *   `quietChecks` samples in a row. Growth, not slack, is the signal: used bytes between two
 *   GCs include garbage, so "committed − used" says little until a GC ran; a heap that grew
 *   and then went quiet is the end of a burst whatever caused it. After a reclaim the
 *   baseline is the new committed size, so live data that genuinely grew does not trigger
 *   reclaims again and again; `minIntervalMs` bounds the rate anyway.
 * - The reclaim is one full, synchronous, compacting GC (`gc()` from `--expose-gc`, switched
 *   on just to obtain the function; `--compact-on-every-full-gc` just around the call). Without
 *   compaction the GC frees the burst's garbage but V8 keeps every old-space page that still
 *   holds a live object: in the hub (N = 1,000) a plain `gc()` left committed memory exactly
 *   where it was (81.8 → 82 MB), and on a synthetic heap with 1 live object in 10 old space
 *   stayed at 96.7 MB committed for 12 MB used, 12.7 MB with compaction (RSS 178 → 101 MB). The young generation does not shrink in that GC (V8 shrinks it only in
 *   a memory-reducing GC, which JavaScript cannot ask for), but the full GC starts V8's memory
 *   reducer, which on a quiet heap shrinks it to 1 MiB about 15–20 s later (measured: 32 →
 *   1 MiB semi-spaces 20 s after the GC, with light allocation going on), instead of after
 *   its ≈100 s watchdog. It blocks the loop for a few hundred ms on a heap of a few hundred
 *   MB, which is why it runs only when nothing is going on.
 * - A second trigger: a young generation above `youngLimit()` (YoungGenerationCap's limit: the
 *   cap, while no load lifts it). A burst long enough to lift the cap (a connect storm, a pod
 *   wave) leaves the semi-spaces at 16 MiB, and the cap cannot shrink them; the committed heap
 *   may not have grown enough since the last reclaim to trigger one (bench/sync after the first
 *   connect: 28.6 MB of young generation still there 20 s later). Quiet and above the limit by
 *   `minGrowthBytes`, the same GC gives it back (the log's youngAfterMB: 32 → 1), but only when
 *   V8 finds the allocation rate low at that moment (it shrinks new space after a full GC when
 *   the current allocation throughput is under 1 KB/ms, heap.cc ReduceNewSpaceSize); otherwise
 *   the space stays and the trigger holds, so the reclaim is tried again `minIntervalMs` later
 *   while the loop stays quiet (bench/sync: 32 → 32 twice, then 32 → 1).
 * - Everything it reads and does is injected (heap sample, loop utilisation, the GC, timers),
 *   so the decision is unit-tested with fakes; `nodeHeapProbe()` supplies the real ones.
 */
import { performance } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "./logger.js";
import { loopUtilisationProbe } from "./loop-utilisation.js";

export interface HeapSample {
  /** bytes V8 has committed for its heap (process.memoryUsage().heapTotal) */
  committed: number;
  /** of which the young generation (new space) */
  youngCommitted: number;
}

export interface HeapProbe {
  sample(): HeapSample;
  /** event-loop utilisation (0..1) since the previous call */
  loopUtilisation(): number;
  /** a full GC, synchronous */
  collect(): void;
}

export interface HeapReclaimerOptions {
  probe: HeapProbe;
  logger: Logger;
  /** how often to look (default 2 s) */
  intervalMs?: number;
  /** quiet samples in a row before reclaiming (default 3: 6 s at the default interval) */
  quietChecks?: number;
  /** loop utilisation below which a sample counts as quiet (default 0.25) */
  quietElu?: number;
  /** committed growth since the last reclaim that makes one worthwhile (default 16 MiB) */
  minGrowthBytes?: number;
  /** …and as a share of the baseline (default 0.2) */
  minGrowthRatio?: number;
  /** at least this long between two reclaims (default 30 s) */
  minIntervalMs?: number;
  /** young-generation bytes above which (by minGrowthBytes) a quiet loop reclaims; undefined: none */
  youngLimit?: () => number | undefined;
  now?: () => number;
}

export interface ReclaimState {
  /** committed bytes after the last reclaim (or at start) */
  baseline: number;
  quietSamples: number;
  lastReclaimAt: number;
}

type Tunables = Required<Omit<HeapReclaimerOptions, "probe" | "logger" | "now" | "youngLimit">>;

const DEFAULTS: Tunables = {
  intervalMs: 2000,
  quietChecks: 3,
  quietElu: 0.25,
  minGrowthBytes: 16 * 1024 * 1024,
  minGrowthRatio: 0.2,
  minIntervalMs: 30_000,
};

/**
 * One sampling step: whether to reclaim now, and the state to keep. Pure, for tests.
 * A busy sample resets the quiet count; growth below the threshold never reclaims.
 */
export function reclaimStep(
  state: ReclaimState,
  sample: HeapSample,
  elu: number,
  now: number,
  t: Tunables,
  youngLimit?: number,
): { reclaim: boolean; state: ReclaimState } {
  const quietSamples = elu < t.quietElu ? state.quietSamples + 1 : 0;
  const growth = sample.committed - state.baseline;
  const grown = growth >= t.minGrowthBytes && growth >= state.baseline * t.minGrowthRatio;
  const youngOver = youngLimit !== undefined && sample.youngCommitted - youngLimit >= t.minGrowthBytes;
  const reclaim =
    (grown || youngOver) && quietSamples >= t.quietChecks && now - state.lastReclaimAt >= t.minIntervalMs;
  // a heap that shrank by itself (V8's reducer ran) lowers the baseline: growth counts from there
  const baseline = Math.min(state.baseline, sample.committed);
  return { reclaim, state: { ...state, baseline, quietSamples } };
}

export class HeapReclaimer {
  private readonly t: Tunables;
  private readonly now: () => number;
  private state: ReclaimState;
  private timer: NodeJS.Timeout | undefined;
  /** reclaims done and bytes they returned (committed before − after), for tests and logs */
  readonly stats = { reclaims: 0, returnedBytes: 0 };

  constructor(private readonly opts: HeapReclaimerOptions) {
    this.t = { ...DEFAULTS, ...stripUndefined(opts) };
    this.now = opts.now ?? Date.now;
    this.state = { baseline: 0, quietSamples: 0, lastReclaimAt: Number.NEGATIVE_INFINITY };
  }

  start(signal?: AbortSignal): void {
    if (this.timer) return;
    this.state = {
      baseline: this.opts.probe.sample().committed,
      quietSamples: 0,
      lastReclaimAt: Number.NEGATIVE_INFINITY,
    };
    this.opts.probe.loopUtilisation();
    this.timer = setInterval(() => this.tick(), this.t.intervalMs);
    // never what keeps the process alive
    this.timer.unref();
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sampling step (the timer's; exposed for tests with a fake probe). */
  tick(): void {
    const probe = this.opts.probe;
    const now = this.now();
    const step = reclaimStep(
      this.state,
      probe.sample(),
      probe.loopUtilisation(),
      now,
      this.t,
      this.opts.youngLimit?.(),
    );
    this.state = step.state;
    if (!step.reclaim) return;
    const before = probe.sample();
    const started = performance.now();
    probe.collect();
    const after = probe.sample();
    this.state = { baseline: after.committed, quietSamples: 0, lastReclaimAt: now };
    this.stats.reclaims++;
    this.stats.returnedBytes += Math.max(0, before.committed - after.committed);
    // the loop was busy with the GC itself: measure utilisation from here
    probe.loopUtilisation();
    const mb = (x: number) => Math.round(x / 104857.6) / 10;
    this.opts.logger.info(
      {
        committedMB: mb(before.committed),
        afterMB: mb(after.committed),
        youngMB: mb(before.youngCommitted),
        youngAfterMB: mb(after.youngCommitted),
        gcMs: Math.round(performance.now() - started),
      },
      "heap reclaimed after a burst",
    );
  }
}

function stripUndefined(o: HeapReclaimerOptions): Partial<Tunables> {
  const out: Partial<Tunables> = {};
  for (const k of Object.keys(DEFAULTS) as (keyof Tunables)[]) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * The real probe: V8's space statistics, the event loop's utilisation, and `gc()`. `--expose-gc`
 * is set only while a fresh context is made (the GC extension is installed into contexts
 * created with the flag on), then switched off again so no other context sees `gc`.
 */
export function nodeHeapProbe(): HeapProbe {
  setFlagsFromString("--expose-gc");
  let gc: () => void;
  try {
    gc = runInNewContext("gc") as () => void;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
  const loopUtilisation = loopUtilisationProbe();
  return {
    sample() {
      let committed = 0;
      let young = 0;
      for (const s of getHeapSpaceStatistics()) {
        committed += s.space_size;
        if (s.space_name === "new_space" || s.space_name === "new_large_object_space") young += s.space_size;
      }
      return { committed, youngCommitted: young };
    },
    loopUtilisation,
    collect() {
      // compacting: a plain full GC frees the garbage but keeps every page that still holds
      // one live object (see the design notes)
      setFlagsFromString("--compact-on-every-full-gc");
      try {
        gc();
      } finally {
        setFlagsFromString("--no-compact-on-every-full-gc");
      }
    },
  };
}
