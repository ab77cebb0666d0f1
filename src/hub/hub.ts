/**
 * The hub's composition root: a straight-line start-up script in the k3s manner —
 * credentials, store, registry, API server, bootstrap objects, controllers — and the
 * reverse on stop. Owns the AbortController and readiness.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeObject } from "../api/object.js";
import { decodeProtobufBody } from "../api/protobuf/index.js";
import { writeFileAtomic } from "../lib/fsutil.js";
import type { Logger } from "../lib/logger.js";
import { ServiceAllocator } from "./apiserver/admission/service-allocator.js";
import { Authenticator } from "./apiserver/auth.js";
import { builtinResources } from "./apiserver/builtin-resources.js";
import type { ServerParts } from "./apiserver/handlers/context.js";
import { ObjectStore } from "./apiserver/object-store.js";
import { builtInSchema, OpenApiCache } from "./apiserver/openapi/index.js";
import { printerFor } from "./apiserver/printers/index.js";
import { ResourceRegistry } from "./apiserver/registry.js";
import { ApiServer } from "./apiserver/server.js";
import type { Schema } from "./apiserver/validation/unknown-fields.js";
import { type Controller, createControllers, EventRecorder } from "./controllers/index.js";
import { NamespaceController } from "./controllers/namespace/namespace-controller.js";
import { EdgeService } from "./edge/index.js";
import { kubeconfigYaml, loadOrCreateCredentials } from "./hub-pki.js";
import { LocalClient } from "./local-client.js";
import { SqliteBackend } from "./store/index.js";

export interface HubConfig {
  dataDir: string;
  bindAddress: string;
  httpsPort: number;
  /** address written into admin.kubeconfig (defaults to 127.0.0.1 or the bind address) */
  advertiseAddress?: string;
  tlsSans: string[];
  serviceCIDR: string;
  clusterCIDR: string;
  nodePortRange: [number, number];
  /** store compaction and checkpoint period (default 30 s) */
  compactionIntervalMs?: number;
  /** MQTT over TLS for edge agents (default 8883; 0 = a free port, for tests) */
  mqttPort?: number;
  /** address the MQTT listener binds (default: bindAddress) */
  mqttBindAddress?: string;
  /** how often coalesced node leases are written to the store (default 15 s) */
  leaseFlushIntervalMs?: number;
  /** how often an unchanged node status is rewritten (default 5 min) */
  nodeStatusRefreshMs?: number;
  logger: Logger;
}

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export class Hub {
  private readonly abort = new AbortController();
  private backend: SqliteBackend | undefined;
  private server: ApiServer | undefined;
  private nsController: NamespaceController | undefined;
  private edge: EdgeService | undefined;
  private ready = false;
  private controllers: Controller[] = [];
  client: LocalClient | undefined;
  store: ObjectStore | undefined;
  registry: ResourceRegistry | undefined;
  kubeconfigPath = "";
  adminToken = "";

  constructor(private readonly cfg: HubConfig) {}

  get url(): string {
    const a = this.server?.address;
    if (!a) throw new Error("the hub is not started");
    const host =
      this.cfg.advertiseAddress ?? (a.host === "0.0.0.0" || a.host === "::" ? "127.0.0.1" : a.host);
    return `https://${host.includes(":") ? `[${host}]` : host}:${a.port}`;
  }

  /** The MQTT listener's bound address (its port is random when configured as 0). */
  get mqttAddress(): { host: string; port: number } {
    if (!this.edge) throw new Error("the hub is not started");
    return this.edge.mqttAddress();
  }

  async start(): Promise<void> {
    const { cfg } = this;
    const log = cfg.logger;
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    const creds = await loadOrCreateCredentials(cfg.dataDir, cfg.tlsSans, "10.43.0.1");
    this.adminToken = creds.adminToken;

    this.backend = new SqliteBackend({
      path: join(cfg.dataDir, "state.db"),
      logger: log,
      compactIntervalMs: cfg.compactionIntervalMs ?? 30_000,
      checkpointIntervalMs: cfg.compactionIntervalMs ?? 30_000,
    });
    await this.backend.start(this.abort.signal);

    const registry = new ResourceRegistry(builtinResources());
    this.registry = registry;
    const allocator = new ServiceAllocator(this.backend, {
      serviceCIDR: cfg.serviceCIDR,
      nodePortRange: cfg.nodePortRange,
      reserved: ["10.43.0.1", "10.43.0.10"],
    });
    const store = new ObjectStore({
      backend: this.backend,
      admit: (info, obj, old) => {
        if (info.group === "" && info.kind === "Service") return allocator.admit(obj, old);
      },
    });
    this.store = store;
    const openapi = new OpenApiCache(registry.all());
    registry.onChange(() => openapi.update(registry.all()));
    const parts: ServerParts = {
      store,
      registry,
      printerFor: (info) => printerFor(info.group, info.resource),
      schemas: { schema: (name) => builtInSchema(name) as Schema | undefined },
      decode: { protobuf: (buf) => decodeProtobufBody(buf) },
      now: () => new Date(),
      logger: log.child({ component: "apiserver" }),
      bookmarkIntervalMs: 60_000,
      watchBufferLimit: 16 * 1024 * 1024,
    };
    const auth = new Authenticator([
      {
        token: creds.adminToken,
        user: { username: "admin", groups: ["system:masters", "system:authenticated"] },
      },
    ]);
    const client = new LocalClient(store, registry);
    this.client = client;
    const backend = this.backend;
    const podsInfo = registry.byKind("", "Pod")!;
    const edge = new EdgeService({
      client,
      backend,
      ca: creds.ca,
      serving: creds.server,
      mqttHost: cfg.mqttBindAddress ?? cfg.bindAddress,
      mqttPort: cfg.mqttPort ?? 8883,
      clusterCIDR: cfg.clusterCIDR,
      serviceCIDR: cfg.serviceCIDR,
      podCreateRevision: async (ns, name) =>
        (await backend.get(store.key(podsInfo, ns, name)))?.createRevision,
      logger: log.child({ component: "edge" }),
      ...(cfg.leaseFlushIntervalMs ? { leaseFlushMs: cfg.leaseFlushIntervalMs } : {}),
      ...(cfg.nodeStatusRefreshMs ? { nodeStatusRefreshMs: cfg.nodeStatusRefreshMs } : {}),
    });
    this.edge = edge;
    this.server = new ApiServer({
      host: cfg.bindAddress,
      port: cfg.httpsPort,
      tls: { certPem: creds.server.certPem, keyPem: creds.server.keyPem, caPem: creds.ca.certPem },
      auth,
      parts,
      openapi,
      ready: () => this.ready,
      routes: edge.routes(),
      upgrades: edge.upgrades(),
      logger: log.child({ component: "apiserver" }),
    });
    await this.bootstrap(store, registry);
    await edge.start();
    await this.server.start(this.abort.signal);

    this.kubeconfigPath = join(cfg.dataDir, "admin.kubeconfig");
    writeFileAtomic(this.kubeconfigPath, kubeconfigYaml(this.url, creds.ca.certPem, creds.adminToken), 0o600);

    this.nsController = new NamespaceController({
      store,
      registry,
      caPem: creds.ca.certPem,
      logger: log.child({ component: "namespace-controller" }),
    });
    await this.nsController.start(this.abort.signal);

    const now = () => new Date();
    const events = new EventRecorder(client, log.child({ component: "events" }), now);
    this.controllers = createControllers(
      { client, events, logger: log, now },
      { clusterCIDR: cfg.clusterCIDR },
    );
    for (const c of this.controllers) await c.start(this.abort.signal);
    this.ready = true;
    log.info({ url: this.url, kubeconfig: this.kubeconfigPath }, "hub ready");
  }

  /** objects every cluster has from the start; idempotent */
  private async bootstrap(store: ObjectStore, registry: ResourceRegistry): Promise<void> {
    const ns = registry.byKind("", "Namespace")!;
    for (const name of DEFAULT_NAMESPACES) {
      if (!(await store.tryGet(ns, undefined, name))) {
        await store.create(ns, undefined, {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name },
        } as KubeObject);
      }
    }
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.abort.abort();
    for (const c of this.controllers) c.stop();
    this.nsController?.stop();
    await this.edge?.stop();
    await this.server?.stop();
    await this.backend?.stop();
  }
}
