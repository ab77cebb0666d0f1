/**
 * SharedInformers: one Informer per resource, shared by the controllers that need it
 * (upstream's SharedInformerFactory). The ReplicaSet, Deployment and garbage collector
 * controllers all watch pods and ReplicaSets; one cache each keeps the hub's memory flat
 * (a 10k-pod cluster holds each pod once, not once per controller).
 *
 * Design notes
 * - `acquire(ref)` starts the informer on first use and returns the same started informer
 *   to later callers; `release(ref)` stops it when its last user lets go (idempotent per
 *   controller because controllers call release once from stop()).
 * - Indexes (pods by owner …) are kept by each controller on top of the shared cache through
 *   handlers: the cache itself stays a plain key → object map.
 */
import type { Client, ResourceRef } from "../../client/client.js";
import { Informer } from "../../client/informer.js";
import type { Logger } from "../../lib/logger.js";

interface Entry {
  informer: Informer;
  started: Promise<void>;
  users: number;
}

function refKey(ref: ResourceRef): string {
  return `${ref.group}/${ref.version}/${ref.resource}`;
}

export class SharedInformers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: Client,
    private readonly logger?: Logger,
  ) {}

  /** the shared informer for ref, started (listed and watching) when the promise resolves */
  async acquire(ref: ResourceRef): Promise<Informer> {
    const k = refKey(ref);
    let e = this.entries.get(k);
    if (!e) {
      const informer = new Informer(this.client, ref, {
        onError: (err) => this.logger?.debug({ err, resource: ref.resource }, "informer relisting"),
      });
      e = { informer, started: informer.start().then(() => informer.waitForSync()), users: 0 };
      this.entries.set(k, e);
    }
    e.users++;
    await e.started;
    return e.informer;
  }

  /** the informer if someone acquired it (no start) */
  peek(ref: ResourceRef): Informer | undefined {
    return this.entries.get(refKey(ref))?.informer;
  }

  release(ref: ResourceRef): void {
    const k = refKey(ref);
    const e = this.entries.get(k);
    if (!e) return;
    e.users--;
    if (e.users <= 0) {
      e.informer.stop();
      this.entries.delete(k);
    }
  }
}
