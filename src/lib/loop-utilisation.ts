/**
 * Event-loop utilisation between two reads, for the hub's memory helpers that act on how busy the
 * process is (HeapReclaimer waits for quiet, YoungGenerationCap lifts its cap under load). Each
 * probe keeps its own baseline, so two users do not steal each other's interval.
 */
import { performance } from "node:perf_hooks";

/** Returns a function giving the loop's utilisation (0..1) since its previous call. */
export function loopUtilisationProbe(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}
