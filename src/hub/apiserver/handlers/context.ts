/** What every resource handler receives: the parsed request and the server's parts. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeObject } from "../../../api/object.js";
import type { Logger } from "../../../lib/logger.js";
import type { UserInfo } from "../auth.js";
import type { Authorizer } from "../authz/rbac-authorizer.js";
import type { Accept, DecodeOptions } from "../codec.js";
import type { Query } from "../http.js";
import type { ObjectStore } from "../object-store.js";
import type { TablePrinter } from "../printers/index.js";
import type { ResourceRegistry } from "../registry.js";
import type { ResourceRequest } from "../request-info.js";
import type { ResourceInfo } from "../resource-info.js";
import type { SchemaCatalog } from "../validation/unknown-fields.js";
import type { TableRows } from "./table-rows.js";
import type { WatchFrames } from "./watch-frames.js";

export interface ServerParts {
  store: ObjectStore;
  registry: ResourceRegistry;
  printerFor: (info: ResourceInfo) => TablePrinter;
  schemas: SchemaCatalog;
  decode: DecodeOptions;
  now: () => Date;
  logger: Logger;
  /** RBAC decisions for requests and the review APIs (SelfSubjectAccessReview …) */
  authorizer: Authorizer;
  /** watch keep-alive bookmarks interval */
  bookmarkIntervalMs: number;
  /** a slow watcher is ended once this many bytes are queued for it */
  watchBufferLimit: number;
  /** watch lines encoded once per event and shared by every watcher */
  watchFrames: WatchFrames;
  /** Table rows of listed objects, kept per revision (table-rows.ts) */
  tableRows: TableRows;
}

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  rr: ResourceRequest;
  info: ResourceInfo;
  query: Query;
  accept: Accept;
  user: UserInfo;
  parts: ServerParts;
  /** headers to add to the reply (Warning: …) */
  warnings: string[];
}

export type ObjectHook = (obj: KubeObject) => KubeObject;
