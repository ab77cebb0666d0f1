/**
 * A stand-in scheduler for control-plane tests that run without the real one: every pod
 * without spec.nodeName is bound to the given node(s), round-robin, by updating the pod.
 * Tests only: the hub's scheduler binds through pods/binding with its predicates.
 */
import type { KubeObject } from "../../src/api/object.js";
import { type Client, isConflict, isNotFound, refs } from "../../src/client/client.js";
import { Informer } from "../../src/client/informer.js";

export class SimBinder {
  private informer: Informer | undefined;
  private next = 0;

  constructor(
    private readonly client: Client,
    private readonly nodes: string[],
  ) {}

  async start(): Promise<void> {
    this.informer = new Informer(this.client, refs.pods);
    this.informer.addHandlers({ onAdd: (p) => void this.bind(p), onUpdate: (p) => void this.bind(p) });
    await this.informer.start();
  }

  stop(): void {
    this.informer?.stop();
  }

  private async bind(pod: KubeObject): Promise<void> {
    const spec = pod.spec as { nodeName?: string } | undefined;
    if (spec?.nodeName || pod.metadata.deletionTimestamp || this.nodes.length === 0) return;
    const node = this.nodes[this.next++ % this.nodes.length] ?? "";
    try {
      await this.client.mutate(refs.pods, pod.metadata.namespace, pod.metadata.name ?? "", (cur) => {
        const s = (cur.spec ?? {}) as { nodeName?: string };
        if (s.nodeName || cur.metadata.uid !== pod.metadata.uid) return cur;
        return { ...cur, spec: { ...s, nodeName: node } };
      });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}
