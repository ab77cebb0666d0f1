/**
 * SchemaRegistry: compiles the schema sources once and answers "which message is this kind".
 *
 * Design notes:
 * - Compilation checks the tables as a whole (every referenced message exists, no short name
 *   is declared twice, every listed kind has a message), so a typo in the data fails the
 *   first test that builds a registry instead of a request at run time.
 * - The default registry holds every built-in group we decode; callers that serve more kinds
 *   (or tests) build their own from other sources. Nothing is global except the lazily built
 *   default, which is immutable.
 */
import { type MessageSchema, parseMessage, type SchemaSource } from "./schema.js";
import { accessClusterSources } from "./schemas/access-cluster.js";
import { appsBatchSources } from "./schemas/apps-batch.js";
import { corePodSource } from "./schemas/core-pod.js";
import { coreVolumesSource } from "./schemas/core-volumes.js";
import { coreObjectsSource, metaSource } from "./schemas/meta-core.js";

export class SchemaRegistry {
  private readonly messages = new Map<string, MessageSchema>();
  private readonly kindToMessage = new Map<string, MessageSchema>();

  constructor(sources: readonly SchemaSource[]) {
    for (const src of sources) {
      for (const [name, spec] of Object.entries(src.messages)) {
        if (this.messages.has(name)) throw new Error(`protobuf schema: message ${name} is declared twice`);
        this.messages.set(name, parseMessage(name, spec));
      }
    }
    for (const msg of this.messages.values()) {
      for (const f of msg.fields) {
        if (f.kind === "message" && !this.messages.has(f.type)) {
          throw new Error(`protobuf schema: ${msg.name}.${f.name} refers to unknown message ${f.type}`);
        }
      }
    }
    for (const src of sources) {
      for (const kind of src.kinds) {
        const msg = this.messages.get(kind);
        if (!msg) throw new Error(`protobuf schema: kind ${src.apiVersion} ${kind} has no message`);
        this.kindToMessage.set(kindKey(src.apiVersion, kind), msg);
      }
    }
  }

  message(name: string): MessageSchema | undefined {
    return this.messages.get(name);
  }

  /** The message for a top-level kind, or undefined when it is not decodable from protobuf. */
  forKind(apiVersion: string, kind: string): MessageSchema | undefined {
    return this.kindToMessage.get(kindKey(apiVersion, kind));
  }

  /** `apps/v1 Deployment` style entries, for error messages and tests. */
  kinds(): string[] {
    return [...this.kindToMessage.keys()].sort();
  }
}

function kindKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

/** Every schema source shipped with edgekube. */
export const builtinSchemaSources: readonly SchemaSource[] = [
  metaSource,
  corePodSource,
  coreVolumesSource,
  coreObjectsSource,
  ...appsBatchSources,
  ...accessClusterSources,
];

let defaultRegistry: SchemaRegistry | undefined;

/** The registry of all built-in kinds, compiled on first use. */
export function builtinRegistry(): SchemaRegistry {
  defaultRegistry ??= new SchemaRegistry(builtinSchemaSources);
  return defaultRegistry;
}
