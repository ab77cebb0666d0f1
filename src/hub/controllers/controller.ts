/** What the hub's controller manager starts: components with start(signal) and stop(). */
import type { Client } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";
import type { EventRecorder } from "./events.js";
import type { SharedInformers } from "./shared-informers.js";

export interface Controller {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): void;
}

export interface ControllerDeps {
  client: Client;
  events: EventRecorder;
  logger: Logger;
  now: () => Date;
  /** the hub's one informer factory: every consumer reads the same read-only caches */
  informers: SharedInformers;
}
