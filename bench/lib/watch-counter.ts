/**
 * bench/api's watchers: each counts the bench's ADDED events on one watch stream and checks that
 * their resourceVersions rise.
 *
 * Design notes
 * - It works on the raw bytes (no UTF-8 decoding, no per-line strings): a hundred of these
 *   share the machine with the hub, so the client must cost as little as it can.
 */
import { request } from "node:https";
import type { Target } from "./https-load.js";

export interface WatchStat {
  events: number;
  firstAt: number;
  lastAt: number;
  inOrder: boolean;
}

const ADDED = Buffer.from('{"type":"ADDED"');
const NAME_CM = Buffer.from('"name":"cm-');
const RV = Buffer.from('"resourceVersion":"');

/** Opens `path` (a watch URL) on the hub; `stat` fills as events arrive, close() ends it. */
export function watch(t: Target, path: string): { stat: WatchStat; close: () => void } {
  const stat: WatchStat = { events: 0, firstAt: 0, lastAt: 0, inOrder: true };
  let last = 0;
  let rest: Buffer | undefined;
  const req = request(
    new URL(path, t.url),
    { ca: t.ca, headers: { Authorization: `Bearer ${t.token}` } },
    (res) => {
      res.on("data", (c: Buffer) => {
        const b = rest ? Buffer.concat([rest, c]) : c;
        let start = 0;
        let i = b.indexOf(10, start);
        while (i >= 0) {
          // the hub splices resourceVersion first into metadata and name follows: the first
          // matches in a line are the object's. Only the bench's own objects count (the
          // namespace's kube-root-ca.crt arrives too).
          const name = b.indexOf(NAME_CM, start);
          if (
            i - start > ADDED.length &&
            b.compare(ADDED, 0, ADDED.length, start, start + ADDED.length) === 0 &&
            name >= 0 &&
            name < i
          ) {
            const at = b.indexOf(RV, start);
            let rv = 0;
            for (let j = at + RV.length; at >= 0 && j < i && b[j]! >= 48 && b[j]! <= 57; j++)
              rv = rv * 10 + b[j]! - 48;
            if (!(rv > last)) stat.inOrder = false;
            last = rv;
            const now = performance.now();
            if (!stat.firstAt) stat.firstAt = now;
            stat.lastAt = now;
            stat.events++;
          }
          start = i + 1;
          i = b.indexOf(10, start);
        }
        rest = start < b.length ? b.subarray(start) : undefined;
      });
    },
  );
  req.on("error", () => {});
  req.end();
  return { stat, close: () => req.destroy() };
}
