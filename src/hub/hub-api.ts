/**
 * The hub's API server assembled from its parts: a composition helper for hub.ts.
 *
 * Design notes
 * - Everything the HTTP side needs is passed in; this file only decides which handler serves
 *   which path: pod subresources (binding, eviction), TokenRequest, the pod streams over MQTT
 *   (log/exec/attach/portforward), metrics.k8s.io, the edge link's join routes and /mqtt.
 * - `apiExtensions` (HubConfig) replaces the streams and metrics parts in tests.
 */
import { decodeLoadedProtobufBody } from "../api/protobuf/lazy.js";
import { refs } from "../client/client.js";
import type { Logger } from "../lib/logger.js";
import type { StreamMux } from "../transport/streams/index.js";
import type { Authenticator } from "./apiserver/auth.js";
import type { Authorizer } from "./apiserver/authz/index.js";
import type { CustomResourceCatalog } from "./apiserver/custom-resources/index.js";
import type { ServerParts } from "./apiserver/handlers/context.js";
import { TABLE_ROWS_BUDGET_BYTES, TableRows } from "./apiserver/handlers/table-rows.js";
import { WatchFrames } from "./apiserver/handlers/watch-frames.js";
import type { ObjectStore } from "./apiserver/object-store.js";
import { builtInSchema, type OpenApiCache } from "./apiserver/openapi/index.js";
import { printerFor } from "./apiserver/printers/index.js";
import type { ResourceRegistry } from "./apiserver/registry.js";
import { ApiServer } from "./apiserver/server.js";
import type { Schema } from "./apiserver/validation/unknown-fields.js";
import type { ServiceAccountTokens } from "./auth/service-account-tokens.js";
import { tokenRequestHandler } from "./auth/token-request.js";
import type { EdgeService } from "./edge/index.js";
import type { HubConfig } from "./hub-config.js";
import type { LocalClient } from "./local-client.js";
import { type MetricsStore, metricsApi } from "./metrics/index.js";
import { podSubresources } from "./pod-subresources.js";
import type { StoreBinder } from "./scheduler/index.js";
import { podStreams } from "./streams/index.js";

export interface HubApiDeps {
  cfg: HubConfig;
  tls: { certPem: string; keyPem: string; caPem: string };
  auth: Authenticator;
  authorizer: Authorizer;
  store: ObjectStore;
  registry: ResourceRegistry;
  crds: CustomResourceCatalog;
  openapi: OpenApiCache;
  client: LocalClient;
  binder: StoreBinder;
  saTokens: ServiceAccountTokens;
  edge: EdgeService;
  mux: StreamMux;
  metrics: MetricsStore;
  ready: () => boolean;
  now: () => Date;
  logger: Logger;
}

export function createHubApiServer(d: HubApiDeps): ApiServer {
  const { cfg, store, registry, crds, client } = d;
  const log = d.logger.child({ component: "apiserver" });
  const parts: ServerParts = {
    authorizer: d.authorizer,
    store,
    registry,
    printerFor: (info) => crds.printer(info) ?? printerFor(info.group, info.resource),
    schemas: { schema: (name) => (builtInSchema(name) as Schema | undefined) ?? crds.schema(name) },
    decode: { protobuf: decodeLoadedProtobufBody },
    now: d.now,
    logger: log,
    bookmarkIntervalMs: cfg.bookmarkIntervalMs ?? 60_000,
    watchBufferLimit: 16 * 1024 * 1024,
    watchFrames: new WatchFrames(),
    tableRows: new TableRows(TABLE_ROWS_BUDGET_BYTES),
  };
  const podsInfo = registry.byKind("", "Pod")!;
  const streams = podStreams({
    mux: d.mux,
    getPod: (ns, name) => store.tryGet(podsInfo, ns, name),
    logger: d.logger.child({ component: "streams" }),
  });
  const labelsOf = async (kind: "nodes" | "pods", ns?: string) => {
    const list = await client.list(kind === "nodes" ? refs.nodes : refs.pods, ns);
    return new Map(
      list.items.map((o) => [
        ns || kind === "nodes" ? o.metadata.name! : `${o.metadata.namespace}/${o.metadata.name}`,
        o.metadata.labels ?? {},
      ]),
    );
  };
  const ext = cfg.apiExtensions?.({ store, registry }) ?? {};
  return new ApiServer({
    host: cfg.bindAddress,
    port: cfg.httpsPort,
    tls: d.tls,
    auth: d.auth,
    parts,
    openapi: d.openapi,
    extensions: {
      subresources: new Map([
        ...podSubresources(d.binder, client, d.now),
        ["/serviceaccounts/token", tokenRequestHandler(d.saTokens)],
        ...streams.subresources,
        ...(ext.subresources ?? []),
      ]),
    },
    onResourceUpgrade: ext.onResourceUpgrade ?? streams.onResourceUpgrade,
    extraApis: ext.extraApis ?? [metricsApi(d.metrics, labelsOf)],
    ready: d.ready,
    routes: d.edge.routes(),
    upgrades: d.edge.upgrades(),
    logger: log,
  });
}
