/**
 * EventRecorder: core/v1 Events as upstream's recorder writes them (kubectl describe shows
 * them): involvedObject, reason, message, type, source.component, first/lastTimestamp and a
 * count that repeated identical events bump instead of creating new objects.
 */
import { randomBytes } from "node:crypto";
import type { KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";
import { type Client, refs } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";

export type EventType = "Normal" | "Warning";

export class EventRecorder {
  /** aggregation key → event name, for count bumps (bounded) */
  private readonly recent = new Map<string, { ns: string; name: string }>();

  constructor(
    private readonly client: Client,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Never throws: an event that cannot be written is logged and dropped. */
  async record(
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    component: string,
  ): Promise<void> {
    const ns = obj.metadata.namespace || "default";
    const key = `${obj.metadata.uid}/${type}/${reason}/${message}/${component}`;
    const at = metaTime(this.now());
    try {
      const prev = this.recent.get(key);
      if (prev) {
        const ok = await this.client
          .mutate(refs.events, prev.ns, prev.name, (cur) => ({
            ...cur,
            count: ((cur.count as number) ?? 1) + 1,
            lastTimestamp: at,
          }))
          .then(() => true)
          .catch(() => false);
        if (ok) return;
        this.recent.delete(key);
      }
      const name = `${obj.metadata.name}.${randomBytes(8).toString("hex")}`;
      await this.client.create(refs.events, ns, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace: ns },
        involvedObject: {
          kind: obj.kind,
          apiVersion: obj.apiVersion,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: "edgekube-hub",
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      });
      if (this.recent.size > 4096) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(key, { ns, name });
    } catch (err) {
      this.logger.debug({ err, reason }, "event dropped");
    }
  }
}
