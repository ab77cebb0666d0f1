/**
 * GET on a collection: a JSON list streamed from stored strings (no parse unless a selector
 * or a Table needs the fields), or a meta.k8s.io Table. Supports limit/continue.
 *
 * Design notes
 * - First byte early: an unpaged list writes its head (kind, apiVersion, metadata with the
 *   store's revision, `"items":[` or the Table's columns and `"rows":[`) from the store's
 *   onRevision callback, before the rows are read, then the items in ~64 KiB chunks. Upstream
 *   streams the same order, so clients see nothing different but the timing.
 * - Without a selector, items stream from the store (Backend.scan) into the reply as they are
 *   read: JSON items as stored bytes (list-writer.ts), Table rows built one object at a
 *   time, or taken from the rows kept per revision (table-rows.ts), so neither a
 *   10,000-item list nor a 10,000-row Table ever exists in memory. With a selector every
 *   object is parsed anyway (readPage).
 */

import { ApiError } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import type { KeyValue } from "../../store/backend.js";
import { decodeStored, spliceResourceVersion } from "../codec.js";
import { buildTable, type TablePrinter } from "../printers/index.js";
import { groupVersion } from "../resource-info.js";
import { compileSelection } from "../selection.js";
import type { Call } from "./context.js";
import { ListWriter } from "./list-writer.js";

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", ...t })).toString("base64url");
}

function decodeContinue(s: string, compacted: number): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as ContinueToken;
    if (typeof t.rv !== "number" || typeof t.start !== "string") throw new Error("bad token");
    if (t.rv < compacted) {
      throw ApiError.gone(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
    return t;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw ApiError.badRequest("continue key is not valid: start a new list without the continue parameter");
  }
}

export interface ListPage {
  items: KeyValue[];
  revision: number;
  continueToken?: string;
  remaining?: number;
  /** parsed objects, when a selector had to parse them anyway */
  parsed?: KubeObject[];
}

/** `onRevision`: see ListOptions.onRevision (only used for unpaged reads, whose metadata it completes) */
export async function readPage(call: Call, onRevision?: (revision: number) => void): Promise<ListPage> {
  const { parts, info, rr, query } = call;
  const prefix = parts.store.prefix(info, rr.namespace);
  const limit = Math.max(0, query.int("limit") ?? 0);
  const cont = query.str("continue");
  const startAfter = cont ? decodeContinue(cont, parts.store.backend.compactRevision()).start : undefined;
  const pred = compileSelection(info, query.str("labelSelector"), query.str("fieldSelector"));
  if (!pred) {
    const r = await parts.store.backend.list(prefix, {
      limit,
      ...(startAfter ? { startAfter } : {}),
      ...(onRevision ? { onRevision } : {}),
    });
    const last = r.items[r.items.length - 1];
    return {
      items: r.items,
      revision: r.revision,
      ...(r.more && last
        ? { continueToken: encodeContinue({ rv: r.revision, start: last.key }), remaining: r.remaining }
        : {}),
    };
  }
  const r = await parts.store.backend.list(prefix, {
    ...(startAfter ? { startAfter } : {}),
    ...(onRevision ? { onRevision } : {}),
  });
  const items: KeyValue[] = [];
  const parsed: KubeObject[] = [];
  let i = 0;
  for (; i < r.items.length; i++) {
    const kv = r.items[i]!;
    const obj = decodeStored(kv.value, kv.revision);
    if (!pred(obj)) continue;
    if (limit > 0 && items.length === limit) break;
    items.push(kv);
    parsed.push(obj);
  }
  const more = i < r.items.length;
  const last = items[items.length - 1];
  return {
    items,
    revision: r.revision,
    parsed,
    ...(more && last ? { continueToken: encodeContinue({ rv: r.revision, start: last.key }) } : {}),
  };
}

export async function handleList(call: Call): Promise<void> {
  const { res, info, parts, accept, query } = call;
  const includeObject = accept.table
    ? ((query.str("includeObject") ?? "Metadata") as "None" | "Metadata" | "Object")
    : "None";
  const out = new ListWriter(res);
  // An unpaged list's metadata is just its resourceVersion, known before the rows are read:
  // the head goes out first so the client sees bytes while the store is still reading.
  // A paged list's metadata needs the continue token, known only after its rows.
  const unpaged = (query.int("limit") ?? 0) <= 0 && !query.str("continue");
  const head = (meta: Record<string, unknown>): string =>
    accept.table
      ? tableHead(parts.printerFor(info), meta)
      : `{"kind":"${info.listKind}","apiVersion":"${groupVersion(info)}","metadata":${JSON.stringify(meta)},"items":[`;
  const onRevision = unpaged ? (rev: number) => out.start(head({ resourceVersion: String(rev) })) : undefined;
  const printer = accept.table ? parts.printerFor(info) : undefined;
  const tableOpts = { includeObject, resourceVersion: "", now: parts.now(), noHeaders: true };
  const row = (obj: KubeObject): Promise<void> | undefined => {
    let pause: Promise<void> | undefined;
    for (const r of buildTable(printer!, [obj], tableOpts).rows as unknown[])
      pause = out.json(JSON.stringify(r));
    return pause;
  };
  const meta = (revision: number, continueToken?: string, remaining?: number) => {
    const m: Record<string, unknown> = { resourceVersion: String(revision) };
    if (continueToken) m.continue = continueToken;
    if (remaining !== undefined) m.remainingItemCount = remaining;
    return m;
  };

  if (!compileSelection(info, query.str("labelSelector"), query.str("fieldSelector"))) {
    // no selector: every item goes straight from the store's bytes into the reply (JSON), or
    // is parsed for its Table row and dropped, so no list of objects is ever held
    const limit = Math.max(0, query.int("limit") ?? 0);
    const cont = query.str("continue");
    const startAfter = cont ? decodeContinue(cont, parts.store.backend.compactRevision()).start : undefined;
    const r = await parts.store.backend.scan(
      parts.store.prefix(info, call.rr.namespace),
      { limit, ...(startAfter ? { startAfter } : {}), ...(onRevision ? { onRevision } : {}) },
      printer
        ? (key, value, revision) => {
            const rows = parts.tableRows.rows(printer, includeObject, key, value, revision, tableOpts.now);
            return rows ? out.json(rows) : undefined;
          }
        : (_key, value, revision) => out.stored(value, revision),
    );
    const token = r.more && r.lastKey ? encodeContinue({ rv: r.revision, start: r.lastKey }) : undefined;
    out.start(head(meta(r.revision, token, token ? r.remaining : undefined)));
    out.end("]}");
    return;
  }
  const page = await readPage(call, onRevision);
  out.start(head(meta(page.revision, page.continueToken, page.remaining)));
  for (let i = 0; i < page.items.length; i++) {
    const kv = page.items[i]!;
    const pause = printer
      ? row(page.parsed?.[i] ?? decodeStored(kv.value, kv.revision))
      : out.json(spliceResourceVersion(kv.value, kv.revision));
    if (pause) await pause;
  }
  out.end("]}");
}

/** A Table's JSON up to its rows array: kind, apiVersion, metadata, columnDefinitions, `"rows":[`. */
function tableHead(printer: TablePrinter, meta: Record<string, unknown>): string {
  const t = buildTable(printer, [], {
    includeObject: "None",
    resourceVersion: "",
    now: new Date(0),
  });
  t.metadata = meta;
  const json = JSON.stringify(t);
  // the empty table ends in `"rows":[]}`: keep everything up to the open bracket
  return json.slice(0, -2);
}
