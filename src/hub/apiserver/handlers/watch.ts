/**
 * Watch: a chunked stream of `{"type":…,"object":…}` lines (one-row Tables when a Table was
 * asked for), starting after the requested resourceVersion.
 *
 * Design notes
 * - Headers are flushed at once: kubectl's wait/rollout/delete block on them.
 * - No resourceVersion (or "0"): synthetic ADDED events for the current state, then live.
 *   A compacted resourceVersion: an ERROR event with a 410 Expired Status, so informers relist.
 * - Selector transitions follow upstream: an object that stops matching is sent as DELETED,
 *   one that starts matching as ADDED.
 * - Each batch of events becomes one write; plain JSON watches write the batch's shared,
 *   once-encoded bytes (watch-frames.ts) rather than encoding per watcher, and selector
 *   watches reuse an event's shared line unless its type was rewritten. Replay from an old
 *   resourceVersion comes in pages the store shares between watchers catching up over the
 *   same range (store/replay-cache.ts), so those are encoded once too.
 * - Writes are coalesced per watch (watch-writer.ts): the first event after a quiet spell is
 *   written at once, a burst's batches share one write per WRITE_INTERVAL_MS.
 * - When the socket stops draining, the store pauses this watcher (returning false from
 *   onEvents) and resumes it on 'drain'; a watcher whose backlog passes the store's cap is
 *   ended (the client re-lists) instead of growing memory.
 */
import { ApiError } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import { CompactedError, type WatchEvent } from "../../store/backend.js";
import { decodeStored } from "../codec.js";
import { buildTable } from "../printers/index.js";
import { groupVersion } from "../resource-info.js";
import { compileSelection } from "../selection.js";
import type { Call } from "./context.js";
import { readPage } from "./list.js";
import { type WatchType, watchLine, watchType } from "./watch-frames.js";
import { CoalescingWriter } from "./watch-writer.js";

type EventType = WatchType;

/**
 * At most one write per watch per this many ms while events keep coming; the first event after
 * a quiet spell is written at once.
 */
const WRITE_INTERVAL_MS = 10;
/** …unless this much is waiting: then it goes at once (one TLS record holds 16 KiB) */
const FLUSH_BYTES = 256 * 1024;

export async function handleWatch(call: Call): Promise<void> {
  const { req, res, info, parts, query, accept, rr } = call;
  const pred = compileSelection(info, query.str("labelSelector"), query.str("fieldSelector"));
  const rvParam = query.str("resourceVersion");
  const bookmarks = query.bool("allowWatchBookmarks");
  const timeoutSec = query.int("timeoutSeconds") ?? 1800;
  const prefix = parts.store.prefix(info, rr.namespace);
  const singleName = rr.name; // watch on a single object path

  let fromRevision: number;
  let initial: { type: EventType; value: string; revision: number; obj?: KubeObject }[] = [];
  if (rvParam === undefined || rvParam === "" || rvParam === "0") {
    const page = await readPage({ ...call, query: call.query });
    fromRevision = page.revision;
    initial = page.items.map((kv, i) => ({
      type: "ADDED" as const,
      value: kv.value,
      revision: kv.revision,
      obj: page.parsed?.[i],
    }));
  } else {
    const n = Number(rvParam);
    if (!Number.isInteger(n) || n < 0)
      throw ApiError.badRequest(`invalid resourceVersion "${rvParam}": must be a non-negative integer`);
    fromRevision = n;
  }

  res.writeHead(200, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Transfer-Encoding": "chunked",
  });
  res.flushHeaders();

  const table = accept.table ? parts.printerFor(info) : undefined;
  const now = parts.now;
  const encode = (
    type: EventType | "ERROR" | "BOOKMARK",
    value: string,
    revision: number,
    obj?: KubeObject,
  ): string => {
    if (table && (type === "ADDED" || type === "MODIFIED" || type === "DELETED")) {
      const o = obj ?? decodeStored(value, revision);
      const t = buildTable(table, [o], {
        includeObject: "Metadata",
        resourceVersion: String(revision),
        now: now(),
      });
      return `{"type":"${type}","object":${JSON.stringify(t)}}\n`;
    }
    if (type === "ERROR" || type === "BOOKMARK") return `{"type":"${type}","object":${value}}\n`;
    return watchLine(type, value, revision);
  };

  let closed = false;
  let lastRevision = fromRevision;
  const timers: NodeJS.Timeout[] = [];
  let cancel = (): void => {};
  // coalesced writes (watch-writer.ts): a burst's batches share one write per WRITE_INTERVAL_MS
  const out: CoalescingWriter = new CoalescingWriter({
    intervalMs: WRITE_INTERVAL_MS,
    maxPendingBytes: FLUSH_BYTES,
    write: (data) => {
      const ok = res.write(data);
      if (!ok && res.writableLength > parts.watchBufferLimit) {
        parts.logger.warn(
          { resource: info.resource, queued: res.writableLength },
          "ending a watch that does not keep up",
        );
        finish();
      }
      return ok;
    },
  });
  const finish = (): void => {
    if (closed) return;
    closed = true;
    cancel();
    for (const t of timers) clearTimeout(t);
    const rest = out.close();
    if (rest) res.write(rest);
    res.end();
  };
  req.on("close", finish);
  res.on("error", finish);

  /** Queues `data` for the client; false asks the store to pause this watcher until 'drain'. */
  const send = (data: string | Buffer): boolean => {
    if (closed) return false;
    return out.send(typeof data === "string" ? Buffer.from(data) : data);
  };

  if (initial.length > 0) {
    let text = "";
    for (const e of initial) text += encode(e.type, e.value, e.revision, e.obj);
    send(text);
  }

  // plain JSON watches send the shared, once-encoded lines (watch-frames.ts)
  const shared = !table && !pred;
  const onEvents = (events: readonly WatchEvent[]): boolean => {
    if (shared && singleName === undefined) {
      lastRevision = events[events.length - 1]!.kv.revision;
      return send(parts.watchFrames.batch(events));
    }
    if (shared) {
      const lines: Buffer[] = [];
      for (const ev of events) {
        lastRevision = ev.kv.revision;
        if (ev.kv.key.endsWith(`/${singleName}`)) lines.push(parts.watchFrames.event(ev));
      }
      return send(lines.length === 1 ? lines[0]! : Buffer.concat(lines));
    }
    const lines: Buffer[] = [];
    for (const ev of events) {
      lastRevision = ev.kv.revision;
      if (singleName !== undefined && !ev.kv.key.endsWith(`/${singleName}`)) continue;
      const own = watchType(ev.type);
      let type: EventType = own;
      let obj: KubeObject | undefined;
      if (pred) {
        obj = decodeStored(ev.kv.value, ev.kv.revision);
        const now = pred(obj);
        const before = ev.prev ? pred(decodeStored(ev.prev.value, ev.prev.revision)) : false;
        if (type === "DELETED") {
          if (!before && !now) continue;
        } else if (now && !before) type = "ADDED";
        else if (!now && before) type = "DELETED";
        else if (!now) continue;
      }
      // an event the selector lets through unchanged is the shared, once-encoded line
      lines.push(
        !table && type === own
          ? parts.watchFrames.event(ev)
          : Buffer.from(encode(type, ev.kv.value, ev.kv.revision, obj)),
      );
    }
    return send(lines.length === 1 ? lines[0]! : Buffer.concat(lines));
  };

  try {
    const w = parts.store.backend.watch(prefix, {
      fromRevision,
      onEvents,
      onError: (err) => {
        if (err instanceof CompactedError) send(encode("ERROR", JSON.stringify(expired(err).toStatus()), 0));
        else parts.logger.info({ resource: info.resource, err: err.message }, "watch ended by the store");
        finish();
      },
    });
    cancel = () => w.cancel();
    res.on("drain", () => {
      out.drained();
      w.resume();
    });
  } catch (e) {
    if (!(e instanceof CompactedError)) throw e;
    send(encode("ERROR", JSON.stringify(expired(e).toStatus()), 0));
    finish();
    return;
  }

  if (closed) cancel();
  timers.push(setTimeout(finish, timeoutSec * 1000));
  if (bookmarks) {
    const bookmark = (): void => {
      const obj = {
        kind: info.kind,
        apiVersion: groupVersion(info),
        metadata: { resourceVersion: String(lastRevision) },
      };
      send(encode("BOOKMARK", JSON.stringify(obj), lastRevision));
    };
    const interval = setInterval(bookmark, parts.bookmarkIntervalMs);
    timers.push(interval);
  }
}

function expired(e: CompactedError): ApiError {
  return ApiError.gone(`too old resource version: ${e.requested} (${e.compacted})`);
}
