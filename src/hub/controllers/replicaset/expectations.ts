/**
 * Expectations (upstream ControllerExpectations): the pods a controller has asked to create or
 * delete but not yet seen in its informer. While any are outstanding the controller does not
 * act on the cache again, which would otherwise lag behind its own writes and over-create.
 * Entries expire after a TTL so a lost watch event cannot wedge a ReplicaSet forever.
 */
export interface ExpectationClock {
  now(): number;
}

interface Entry {
  adds: number;
  dels: Set<string>;
  at: number;
}

export class Expectations {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly clock: ExpectationClock = { now: () => Date.now() },
  ) {}

  /** true when nothing is outstanding for the controller key (or what is has expired) */
  satisfied(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return true;
    if ((e.adds <= 0 && e.dels.size === 0) || this.clock.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return true;
    }
    return false;
  }

  expectCreations(key: string, n: number): void {
    const e = this.entry(key);
    e.adds += n;
  }

  expectDeletions(key: string, podKeys: string[]): void {
    const e = this.entry(key);
    for (const k of podKeys) e.dels.add(k);
  }

  creationObserved(key: string): void {
    const e = this.entries.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  deletionObserved(key: string, podKey: string): void {
    this.entries.get(key)?.dels.delete(podKey);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { adds: 0, dels: new Set(), at: this.clock.now() };
      this.entries.set(key, e);
    }
    e.at = this.clock.now();
    return e;
  }
}
