/**
 * Cutting snapshots and deltas into messages that fit the packet limit.
 *
 * Design notes
 * - A snapshot is an unordered set, so it may be cut anywhere; the agent applies it only when every
 *   chunk has arrived (a half-received snapshot is discarded and re-requested).
 * - A delta is applied piece by piece and each piece advances the agent's watermark, so a piece may
 *   only end *between* revisions: if it ended inside revision r, the agent's watermark would claim r
 *   while some of r's changes were still missing, and a reconnect ("changes since r") would never
 *   resend them. Changes of one revision therefore stay in one piece even when over budget (with
 *   kine-style revisions there is one object per revision, and one object fits the packet limit).
 * - Sizes are estimated from the JSON of each object; the envelope adds a few hundred bytes.
 *   An object's JSON length is remembered per object (objectBytes): the hub's desired sets share
 *   one decoded object between every node that holds it (SharedObjects), so when a change
 *   reaches a fleet — or a fleet reconnects and asks for its deltas — it was stringified once
 *   per node just to be measured (bench/sync profile), besides the real encoding.
 */
import type { DesiredChange, DesiredObject } from "./envelope.js";

/** Default payload budget per message: well under MAX_PACKET_BYTES, small enough for slow links. */
export const CHUNK_BUDGET_BYTES = 256 * 1024;

/** JSON length of shared, read-only objects (see the design notes) */
const objectBytes = new WeakMap<object, number>();

/** JSON.stringify(x).length for the shapes of DesiredObject and DesiredChange */
function sizeOf(x: DesiredObject | DesiredChange): number {
  const head = "op" in x ? x.op.length + 8 : 0; // "op":"put",
  const frame = 20 + JSON.stringify(x.key).length + String(x.revision).length; // {"key":…,"revision":…}
  if (!("object" in x)) return head + frame;
  let bytes = objectBytes.get(x.object);
  if (bytes === undefined) {
    bytes = JSON.stringify(x.object).length;
    objectBytes.set(x.object, bytes);
  }
  return head + frame + 10 + bytes; // ,"object":…
}

/** Splits a snapshot's objects into chunks of about `budget` bytes (never an empty list of chunks). */
export function chunkObjects(
  objects: readonly DesiredObject[],
  budget = CHUNK_BUDGET_BYTES,
): DesiredObject[][] {
  const chunks: DesiredObject[][] = [];
  let current: DesiredObject[] = [];
  let bytes = 0;
  for (const o of objects) {
    const size = sizeOf(o);
    if (current.length > 0 && bytes + size > budget) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(o);
    bytes += size;
  }
  chunks.push(current);
  return chunks;
}

export interface DeltaPiece {
  from: number;
  to: number;
  changes: DesiredChange[];
}

/**
 * Splits the delta (from, to] into pieces of about `budget` bytes, cut only between revisions.
 * Pieces chain: each piece's `from` is the previous piece's `to`; the last ends at `to`.
 */
export function splitDelta(
  from: number,
  to: number,
  changes: readonly DesiredChange[],
  budget = CHUNK_BUDGET_BYTES,
): DeltaPiece[] {
  const sorted = [...changes].sort((a, b) => a.revision - b.revision);
  const pieces: DeltaPiece[] = [];
  let current: DesiredChange[] = [];
  let bytes = 0;
  let start = from;
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i] as DesiredChange;
    current.push(c);
    bytes += sizeOf(c);
    const next = sorted[i + 1];
    const boundary = next === undefined || next.revision !== c.revision;
    if (boundary && bytes >= budget && next !== undefined) {
      pieces.push({ from: start, to: c.revision, changes: current });
      start = c.revision;
      current = [];
      bytes = 0;
    }
  }
  pieces.push({ from: start, to: Math.max(to, start), changes: current });
  return pieces;
}
