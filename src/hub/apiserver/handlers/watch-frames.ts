/**
 * WatchFrames: the JSON watch lines of committed events, encoded once and shared by every
 * watcher that sends them unchanged.
 *
 * Design notes
 * - A hundred watchers on one collection used to splice and stringify each event a hundred
 *   times and hand each socket its own string to convert to bytes. Here each event's line
 *   (`{"type":"ADDED","object":…}\n` with resourceVersion spliced into the stored bytes) is
 *   built once as a Buffer, and one flush's batch is concatenated once: the watch bus passes
 *   the very same batch array to every watcher whose prefix takes all of it, so the batch
 *   buffer is memoized on that array's identity and the same bytes go to every socket (only
 *   TLS encryption remains per watcher, which it must).
 * - Both memos are WeakMaps keyed by the store's event objects and batch arrays: an entry
 *   lives exactly as long as some watcher, the bus's backlog of a paused one, or the store's
 *   replay cache (whose pages are batch arrays too, store/replay-cache.ts) still holds the
 *   event, so there is nothing to evict here and nothing to leak.
 * - Only plain JSON lines are shared. A watch with selectors may rewrite an event's type
 *   (an object leaving the selection is sent as DELETED), and Table watches render per
 *   request; those encode per watcher as before.
 */
import type { WatchEvent, WatchEventType } from "../../store/backend.js";
import { spliceResourceVersion } from "../codec.js";

export type WatchType = "ADDED" | "MODIFIED" | "DELETED";

export function watchType(t: WatchEventType): WatchType {
  return t === "create" ? "ADDED" : t === "update" ? "MODIFIED" : "DELETED";
}

/** one watch line: the stored object with its resourceVersion, under `type` */
export function watchLine(type: string, value: string, revision: number): string {
  return `{"type":"${type}","object":${spliceResourceVersion(value, revision)}}\n`;
}

export class WatchFrames {
  readonly #events = new WeakMap<WatchEvent, Buffer>();
  readonly #batches = new WeakMap<readonly WatchEvent[], Buffer>();

  /** the event's line with its own type (create → ADDED …) */
  event(ev: WatchEvent): Buffer {
    let b = this.#events.get(ev);
    if (!b) {
      b = Buffer.from(watchLine(watchType(ev.type), ev.kv.value, ev.kv.revision));
      this.#events.set(ev, b);
    }
    return b;
  }

  /**
   * every event's line, in order, as one buffer (shared when the batch array is). The lines
   * of a longer batch are not memoized one by one: the batch buffer already holds them, and
   * a replayed page of 1000 events cached by the store (replay-cache.ts) would otherwise be
   * held encoded twice.
   */
  batch(events: readonly WatchEvent[]): Buffer {
    let b = this.#batches.get(events);
    if (!b) {
      b =
        events.length === 1
          ? this.event(events[0]!)
          : Buffer.concat(
              events.map(
                (e) =>
                  this.#events.get(e) ?? Buffer.from(watchLine(watchType(e.type), e.kv.value, e.kv.revision)),
              ),
            );
      this.#batches.set(events, b);
    }
    return b;
  }
}
