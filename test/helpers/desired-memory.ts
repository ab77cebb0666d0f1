/**
 * In-memory DesiredSource (hub) and DesiredSink (agent) for sync tests: small, obviously correct
 * reference implementations of the contracts in src/transport/sync-hub.ts and sync-agent.ts.
 * The source keeps a revision log that can be compacted; the sink records every application so
 * tests can prove nothing was applied twice.
 */
import type { KubeObject } from "../../src/api/object.js";
import type { DesiredChange, DesiredObject } from "../../src/transport/envelope.js";
import { entryHash, SetDigest } from "../../src/transport/set-digest.js";
import type { DesiredSink } from "../../src/transport/sync-agent.js";
import type { DesiredSource } from "../../src/transport/sync-hub.js";

/** SetDigest (hex) of a list of entries, as both ends compute it. */
export function digestOf(objects: Iterable<DesiredObject>): string {
  const d = new SetDigest();
  for (const o of objects) d.toggle(entryHash(o.key, o.object));
  return d.hex();
}

export function obj(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, ...extra };
}

export class MemoryDesiredSource implements DesiredSource {
  private rev = 0;
  private compactedTo = 0;
  private readonly log: Array<{ node: string; change: DesiredChange }> = [];
  private readonly sets = new Map<string, Map<string, DesiredObject>>();
  private readonly subs = new Map<string, Set<() => void>>();

  get revision(): number {
    return this.rev;
  }

  put(node: string, key: string, object: KubeObject): number {
    const revision = ++this.rev;
    this.setOf(node).set(key, { key, revision, object });
    this.log.push({ node, change: { op: "put", key, revision, object } });
    this.notify(node);
    return revision;
  }

  delete(node: string, key: string): number {
    const revision = ++this.rev;
    this.setOf(node).delete(key);
    this.log.push({ node, change: { op: "delete", key, revision } });
    this.notify(node);
    return revision;
  }

  /** A write elsewhere in the cluster: advances the revision without touching any node's set. */
  bump(): number {
    return ++this.rev;
  }

  /** Forgets the history up to the current revision (like the store's compaction). */
  compact(): void {
    this.compactedTo = this.rev;
    this.log.length = 0;
  }

  objects(node: string): DesiredObject[] {
    return [...this.setOf(node).values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  snapshot(node: string): { revision: number; objects: DesiredObject[] } {
    return { revision: this.rev, objects: this.objects(node) };
  }

  changesSince(
    node: string,
    watermark: number,
  ): { revision: number; changes: DesiredChange[] } | "compacted" {
    if (watermark < this.compactedTo) return "compacted";
    const changes = this.log
      .filter((e) => e.node === node && e.change.revision > watermark)
      .map((e) => e.change);
    return { revision: this.rev, changes };
  }

  digest(node: string): { revision: number; digest: string } {
    return { revision: this.rev, digest: digestOf(this.objects(node)) };
  }

  subscribe(node: string, onChange: () => void): () => void {
    let set = this.subs.get(node);
    if (!set) {
      set = new Set();
      this.subs.set(node, set);
    }
    set.add(onChange);
    return () => set.delete(onChange);
  }

  private setOf(node: string): Map<string, DesiredObject> {
    let set = this.sets.get(node);
    if (!set) {
      set = new Map();
      this.sets.set(node, set);
    }
    return set;
  }

  private notify(node: string): void {
    for (const cb of this.subs.get(node) ?? []) cb();
  }
}

export class MemoryDesiredSink implements DesiredSink {
  private wm = 0;
  readonly objects = new Map<string, DesiredObject>();
  /** every change applied, in order ("put key@rev" / "delete key@rev") */
  readonly applied: string[] = [];
  snapshots = 0;

  watermark(): number {
    return this.wm;
  }

  version(key: string): number | undefined {
    return this.objects.get(key)?.revision;
  }

  apply(changes: DesiredChange[], watermark: number): void {
    for (const c of changes) {
      this.applied.push(`${c.op} ${c.key}@${c.revision}`);
      if (c.op === "put") this.objects.set(c.key, { key: c.key, revision: c.revision, object: c.object });
      else this.objects.delete(c.key);
    }
    this.wm = watermark;
  }

  replace(objects: DesiredObject[], revision: number): void {
    this.snapshots++;
    this.objects.clear();
    for (const o of objects) this.objects.set(o.key, o);
    this.wm = revision;
  }

  sorted(): DesiredObject[] {
    return [...this.objects.values()].sort((a, b) => a.key.localeCompare(b.key));
  }
}
