/**
 * An in-memory edge link for unit tests of the stream protocol: hub and agent channels that
 * pass every envelope through the real JSON encode/decode, delivered asynchronously (as MQTT
 * would), and can be severed to simulate a dropped node.
 */
import {
  decodeEnvelope,
  type Envelope,
  type EnvelopeType,
  encodeEnvelope,
} from "../../src/transport/envelope.js";
import type { AgentStreamChannel, HubStreamChannel } from "../../src/transport/streams/index.js";

export class MemoryLink {
  private readonly hubHandlers = new Set<(node: string, env: Envelope, stream: string) => void>();
  private readonly agentHandlers = new Map<string, Set<(env: Envelope) => void>>();
  private readonly disconnectHandlers = new Set<(node: string) => void>();
  /** every envelope type sent, in order, per direction */
  readonly sent: { down: string[]; up: string[] } = { down: [], up: [] };
  up = true;
  /** optional filter to drop frames (e.g. lose a data frame) */
  dropDown: (env: Envelope) => boolean = () => false;

  constructor(readonly node: string) {}

  hub(): HubStreamChannel {
    return {
      send: async (node, env) => {
        if (!this.up || node !== this.node) throw new Error(`node ${node} is not connected`);
        this.sent.down.push(env.type);
        if (this.dropDown(env)) return;
        const copy = decodeEnvelope(encodeEnvelope(env));
        setImmediate(() => {
          for (const h of this.agentHandlers.get(copy.type) ?? []) h(copy);
        });
      },
      onEnvelope: (h) => {
        this.hubHandlers.add(h);
        return () => this.hubHandlers.delete(h);
      },
      onNodeDisconnected: (h) => {
        this.disconnectHandlers.add(h);
        return () => this.disconnectHandlers.delete(h);
      },
    };
  }

  agent(): AgentStreamChannel {
    return {
      send: async (env, stream) => {
        if (!this.up) throw new Error("link down");
        this.sent.up.push(env.type);
        const copy = decodeEnvelope(encodeEnvelope(env));
        setImmediate(() => {
          for (const h of this.hubHandlers) h(this.node, copy, stream);
        });
      },
      on: (type: EnvelopeType, h: (env: Envelope) => void) => {
        let set = this.agentHandlers.get(type);
        if (!set) {
          set = new Set();
          this.agentHandlers.set(type, set);
        }
        set.add(h);
        return () => set.delete(h);
      },
    };
  }

  sever(): void {
    this.up = false;
    for (const h of this.disconnectHandlers) h(this.node);
  }
}
