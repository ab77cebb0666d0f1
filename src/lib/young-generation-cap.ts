/**
 * Caps the hub's V8 young generation (new space) at run time, in every launcher: `npx edge-hub`,
 * the built dist and the SEA single executable (issue 4: hub RSS at 5,000 nodes).
 *
 * Design notes
 * - After any burst (joins, a connect storm, a pod wave) V8 grows the two semi-spaces to their
 *   16 MiB maximum and keeps them until its memory reducer runs (tens of seconds to minutes on
 *   a hub whose agents keep pinging): ≈ 32 MB of RSS in every reading bench/sync took
 *   (docs/hub-memory.md). `--max-semi-space-size=N` would cap it, but V8 reads that flag only
 *   when the heap is created: `v8.setFlagsFromString` at run time has no effect (measured,
 *   node 20: new space still reached 32 MB), and a Node 20 SEA takes no execArgv. Re-executing
 *   would keep a second process (≈ 40 MB) alive for nothing.
 * - What V8 does read at every resize is `--semi-space-growth-factor` (a semi-space grows from
 *   its current size to min(max, size × factor) after a scavenge in which enough survived).
 *   So the cap watches the size after each GC (a `gc` PerformanceObserver: the entry arrives
 *   in the next turn of the event loop) and keeps the factor at 2 only while two more
 *   doublings stay within the cap, and at 1 (no growth) from there: the semi-spaces settle at
 *   half the cap, and the one doubling V8 may do before the observer runs lands on the cap. If V8's reducer shrinks the space
 *   again, the factor goes back to 2 so it may grow up to the cap once more.
 * - Why two doublings of room: entries are delivered after the GC, so a long synchronous task
 *   with several scavenges in it grows the space once more before the factor drops. With one
 *   doubling of room a 4 MiB cap ended at 8 MiB semi-spaces in bench/sync (N = 1,000, after
 *   the status round of the idle window and after the restart storm), and on a synthetic burst
 *   2 MiB → 4. A task long enough for two growths could still pass the cap by one doubling.
 *   It cannot shrink a space that is already larger: that stays V8's (and HeapReclaimer's).
 * - The cost is a scavenge every semi-space worth of allocation instead of every 16 MiB, and
 *   more promotion to old space when bursts outlive a small semi-space (bench/sync and
 *   bench/api figures are in docs/hub-memory.md). bench/scheduler pays most: hub CPU for its
 *   10,000-pod wave 15–19 s uncapped, 23–27 s at 4 MiB. So a fixed cap is not the default
 *   (`--max-semi-space 4` still sets one); the default lifts it under load (next note).
 * - Lifted under sustained load (`liftUnderLoad`, the hub's default): while the event loop has
 *   been busy (utilisation ≥ `busyElu`, 0.5) for `busySamples` (3) one-second samples in a row, the
 *   cap is off and V8 grows the young generation as it likes; once a sample is quiet again the
 *   cap is back. A long burst (a 10,000-pod wave, an API load) then runs at V8's own speed, while
 *   what an idle fleet does (lease flushes every 15 s, hourly status rounds, a site reconnecting)
 *   stays in a small young generation. What a lifted burst grew is shrunk by HeapReclaimer's GC
 *   when the hub goes quiet (V8 shrinks the space then), and the cap keeps it small from there.
 *   Without the lift a 4 MiB cap cost bench/scheduler a quarter of its throughput (above).
 */
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { UsageError } from "./args.js";

const MiB = 1024 * 1024;

/**
 * edge-hub server's --max-semi-space default: 4 MiB, lifted under sustained load ("auto"). A
 * fixed 4 MiB cap kept 25–40 MB less resident at 5,000 nodes but cost the scheduler a quarter of
 * its throughput (bench/scheduler, side by side: 439–510 pods/s capped at 4, 509–575 at 8,
 * 586–734 uncapped; the target is 500); lifting it under load keeps the scheduler's (see the
 * design notes and docs/hub-memory.md).
 */
export const AUTO_SEMI_SPACE_MIB = 4;

/** a parsed --max-semi-space: the cap in MiB (0 = none) and whether sustained load lifts it */
export interface SemiSpaceSetting {
  maxSemiSpaceMiB: number;
  liftUnderLoad: boolean;
}

export const DEFAULT_SEMI_SPACE: SemiSpaceSetting = {
  maxSemiSpaceMiB: AUTO_SEMI_SPACE_MIB,
  liftUnderLoad: true,
};

/**
 * The growth factor to run with, given the current new space (both semi-spaces, as
 * v8.getHeapSpaceStatistics reports it) and the cap for one semi-space. Pure, for tests.
 */
export function growthFactorFor(newSpaceBytes: number, capSemiSpaceMiB: number): 1 | 2 {
  const semiSpace = newSpaceBytes / 2;
  // room for two doublings: the one V8 may do now, and the one it may do before the next
  // observer callback sees the first (the overshoot measured in the hub: 4 MiB cap → 8 MiB)
  return semiSpace * 4 <= capSemiSpaceMiB * MiB ? 2 : 1;
}

export interface LoadLift {
  /** event-loop utilisation (0..1) since the previous call */
  loopUtilisation: () => number;
  /** sampling interval (default 1 s) */
  sampleMs?: number;
  /** utilisation at or above which a sample counts as busy (default 0.5) */
  busyElu?: number;
  /** busy samples in a row that lift the cap (default 3) */
  busySamples?: number;
}

export interface YoungGenerationCapOptions {
  /** the largest semi-space, in MiB (V8's own maximum on node 20 is 16); 0 = no cap */
  maxSemiSpaceMiB: number;
  /** lift the cap while the loop stays busy (see the design notes); absent: the cap always holds */
  liftUnderLoad?: LoadLift;
  /** the new space's size now (injected for tests; default: v8.getHeapSpaceStatistics) */
  newSpaceBytes?: () => number;
  /** applies a V8 flag (default v8.setFlagsFromString) */
  setFlag?: (flag: string) => void;
}

/**
 * Validates a --max-semi-space value: "auto" (4 MiB, lifted under sustained load), 0 (V8's own
 * young generation) or a fixed cap of 1, 2, 4, 8 or 16 MiB.
 */
export function parseSemiSpace(v: string | undefined, flag: string): SemiSpaceSetting {
  if (v === undefined || v.trim() === "auto") return DEFAULT_SEMI_SPACE;
  const n = v.trim() === "" ? Number.NaN : Number(v);
  if (!Number.isInteger(n) || !(n === 0 || (n >= 1 && n <= 16 && (n & (n - 1)) === 0)))
    throw new UsageError(
      `${flag} must be auto, 0 (V8's own young generation) or 1, 2, 4, 8 or 16 MiB, got "${v}"`,
    );
  return { maxSemiSpaceMiB: n, liftUnderLoad: false };
}

export class YoungGenerationCap {
  private observer: PerformanceObserver | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private factor: 1 | 2 | undefined;
  /** busy samples in a row so far */
  private busyRun = 0;
  private readonly newSpaceBytes: () => number;
  private readonly setFlag: (flag: string) => void;

  constructor(private readonly opts: YoungGenerationCapOptions) {
    this.newSpaceBytes = opts.newSpaceBytes ?? currentNewSpaceBytes;
    this.setFlag = opts.setFlag ?? setFlagsFromString;
  }

  /** Sets the factor for the current size and follows every GC from here. */
  start(signal?: AbortSignal): void {
    if (this.observer || this.opts.maxSemiSpaceMiB <= 0) return;
    this.check();
    this.observer = new PerformanceObserver(() => this.check());
    this.observer.observe({ entryTypes: ["gc"] });
    const lift = this.opts.liftUnderLoad;
    if (lift) {
      lift.loopUtilisation();
      this.sampler = setInterval(() => this.sample(), lift.sampleMs ?? 1000);
      // never what keeps the process alive
      this.sampler.unref();
    }
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /**
   * The young generation's size the cap allows right now (both semi-spaces at the cap), or
   * undefined while there is no cap or load lifts it: HeapReclaimer's second trigger.
   */
  get limitBytes(): number | undefined {
    if (this.opts.maxSemiSpaceMiB <= 0 || this.lifted) return undefined;
    return 2 * this.opts.maxSemiSpaceMiB * MiB;
  }

  /** whether sustained load lifts the cap right now */
  get lifted(): boolean {
    return this.busyRun >= (this.opts.liftUnderLoad?.busySamples ?? 3);
  }

  /** One load sample (the sampler's; exposed for tests with an injected utilisation). */
  sample(): void {
    const lift = this.opts.liftUnderLoad;
    if (!lift) return;
    const was = this.lifted;
    this.busyRun = lift.loopUtilisation() >= (lift.busyElu ?? 0.5) ? this.busyRun + 1 : 0;
    if (this.lifted !== was) this.check();
  }

  /** Stops following GCs; the factor stays as it was last set. */
  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    clearInterval(this.sampler);
    this.sampler = undefined;
  }

  /** One check (the observer's; exposed for tests with injected size and flag setter). */
  check(): void {
    const f = this.lifted ? 2 : growthFactorFor(this.newSpaceBytes(), this.opts.maxSemiSpaceMiB);
    if (f === this.factor) return;
    this.factor = f;
    this.setFlag(`--semi-space-growth-factor=${f}`);
  }
}

function currentNewSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
}
