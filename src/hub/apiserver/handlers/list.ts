/**
 * GET on a collection: a JSON list streamed from stored strings (no parse unless a selector
 * or a Table needs the fields), or a meta.k8s.io Table. Supports limit/continue.
 */
import { ApiError } from "../../../api/errors.js";
import type { KubeObject } from "../../../api/object.js";
import type { KeyValue } from "../../store/backend.js";
import { decodeStored, spliceResourceVersion } from "../codec.js";
import { buildTable } from "../printers/index.js";
import { groupVersion } from "../resource-info.js";
import { compileSelection } from "../selection.js";
import type { Call } from "./context.js";

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

export async function readPage(call: Call): Promise<ListPage> {
  const { parts, info, rr, query } = call;
  const prefix = parts.store.prefix(info, rr.namespace);
  const limit = Math.max(0, query.int("limit") ?? 0);
  const cont = query.str("continue");
  const startAfter = cont ? decodeContinue(cont, parts.store.backend.compactRevision()).start : undefined;
  const pred = compileSelection(info, query.str("labelSelector"), query.str("fieldSelector"));
  if (!pred) {
    const r = await parts.store.backend.list(prefix, { limit, ...(startAfter ? { startAfter } : {}) });
    const last = r.items[r.items.length - 1];
    return {
      items: r.items,
      revision: r.revision,
      ...(r.more && last
        ? { continueToken: encodeContinue({ rv: r.revision, start: last.key }), remaining: r.remaining }
        : {}),
    };
  }
  const r = await parts.store.backend.list(prefix, startAfter ? { startAfter } : {});
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
  const page = await readPage(call);
  if (accept.table) {
    const objects = page.parsed ?? page.items.map((kv) => decodeStored(kv.value, kv.revision));
    const includeObject = (query.str("includeObject") ?? "Metadata") as "None" | "Metadata" | "Object";
    const table = buildTable(parts.printerFor(info), objects, {
      includeObject,
      resourceVersion: String(page.revision),
      now: parts.now(),
      ...(page.continueToken ? { continueToken: page.continueToken } : {}),
      ...(page.remaining !== undefined ? { remainingItemCount: page.remaining } : {}),
    });
    const body = JSON.stringify(table);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const meta: Record<string, unknown> = { resourceVersion: String(page.revision) };
  if (page.continueToken) meta.continue = page.continueToken;
  if (page.remaining !== undefined) meta.remainingItemCount = page.remaining;
  res.writeHead(200, { "Content-Type": "application/json" });
  // stored values are spliced, not parsed; written in ~64 KiB chunks
  let chunk = `{"kind":"${info.listKind}","apiVersion":"${groupVersion(info)}","metadata":${JSON.stringify(meta)},"items":[`;
  for (let i = 0; i < page.items.length; i++) {
    const kv = page.items[i]!;
    chunk += (i === 0 ? "" : ",") + spliceResourceVersion(kv.value, kv.revision);
    if (chunk.length > 65536) {
      res.write(chunk);
      chunk = "";
    }
  }
  res.end(`${chunk}]}`);
}
