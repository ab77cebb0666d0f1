/**
 * The revision log's row and the write rules both backends share.
 *
 * Design notes
 * - A row is kine's: every write appends one, `id` is the new global revision. `created` marks
 *   the row that (re)created the key, `deleted` marks a tombstone, which carries the last
 *   value so a delete event can be replayed from the row alone. `prev_revision` points at the
 *   key's previous row (0 for a key's first row); (name, prev_revision) is unique, so two
 *   writers that read the same revision can never both append.
 * - `decideWrite` is the optimistic-concurrency check as a pure function: given what the
 *   writer knows about the key's newest row it yields either the row to append or the error.
 *   Group commit runs it op by op, so conflicts inside one batch resolve in order.
 */
import { ConflictError, KeyExistsError, type KeyValue, NotFoundError, type WatchEvent } from "./backend.js";

export interface LogRow {
  readonly id: number;
  readonly name: string;
  readonly created: boolean;
  readonly deleted: boolean;
  readonly createRevision: number;
  readonly prevRevision: number;
  readonly value: string;
}

/** What the single writer keeps in memory about a key's newest row (tombstones included). */
export interface Latest {
  readonly revision: number;
  readonly createRevision: number;
  readonly deleted: boolean;
}

export type WriteOp =
  | { readonly kind: "create"; readonly key: string; readonly value: string }
  | {
      readonly kind: "update";
      readonly key: string;
      readonly value: string;
      readonly expectedRevision: number;
    }
  | { readonly kind: "delete"; readonly key: string; readonly expectedRevision: number };

export type Decision =
  | { readonly ok: true; readonly row: LogRow; readonly kv: KeyValue; readonly event: WatchEvent }
  | { readonly ok: false; readonly error: Error };

/**
 * Decide one write. `revision` is the id the row gets if the write goes through; `read`
 * returns the key's newest row as a KeyValue (needed for prev, tombstone value and conflicts).
 * expectedRevision 0 means unconditional, for update and delete alike.
 */
export function decideWrite(
  op: WriteOp,
  latest: Latest | undefined,
  revision: number,
  read: (latest: Latest) => KeyValue,
): Decision {
  const live = latest !== undefined && !latest.deleted ? latest : undefined;
  if (op.kind === "create") {
    if (live) return { ok: false, error: new KeyExistsError(op.key) };
    const row: LogRow = {
      id: revision,
      name: op.key,
      created: true,
      deleted: false,
      createRevision: revision,
      // after a delete the new row chains onto the tombstone, keeping (name, prev) unique
      prevRevision: latest?.revision ?? 0,
      value: op.value,
    };
    const kv = { key: op.key, value: op.value, revision, createRevision: revision };
    return { ok: true, row, kv, event: { type: "create", kv } };
  }
  if (!live) return { ok: false, error: new NotFoundError(op.key) };
  const prev = read(live);
  if (op.expectedRevision !== 0 && op.expectedRevision !== live.revision) {
    return { ok: false, error: new ConflictError(op.key, prev) };
  }
  const value = op.kind === "update" ? op.value : prev.value;
  const row: LogRow = {
    id: revision,
    name: op.key,
    created: false,
    deleted: op.kind === "delete",
    createRevision: live.createRevision,
    prevRevision: live.revision,
    value,
  };
  const kv = { key: op.key, value, revision, createRevision: live.createRevision };
  return { ok: true, row, kv, event: { type: op.kind, kv, prev } };
}

/** The watch event a stored row stands for; `prev` is the row it superseded (not for creates). */
export function eventOfRow(row: LogRow, prev: KeyValue | undefined): WatchEvent {
  const kv = { key: row.name, value: row.value, revision: row.id, createRevision: row.createRevision };
  if (row.created) return { type: "create", kv };
  return prev
    ? { type: row.deleted ? "delete" : "update", kv, prev }
    : { type: row.deleted ? "delete" : "update", kv };
}

export function latestOfRow(row: LogRow): Latest {
  return { revision: row.id, createRevision: row.createRevision, deleted: row.deleted };
}

/**
 * The smallest string greater than every string starting with `prefix`, for `name < end`
 * range scans. Keys are ASCII paths (/registry/…); the empty prefix gets a sentinel above
 * any key we store.
 */
export function prefixEnd(prefix: string): string {
  if (prefix === "") return "\u{10FFFF}";
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last < 0xd7ff) return prefix.slice(0, -1) + String.fromCharCode(last + 1);
  return prefix + "\u{10FFFF}";
}

/** Approximate memory held by an event, for watch backlog accounting. */
export function eventBytes(e: WatchEvent): number {
  return 64 + e.kv.key.length + e.kv.value.length + (e.prev ? e.prev.value.length : 0);
}
