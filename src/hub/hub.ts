/**
 * The hub's composition root: a straight-line start-up script in the k3s manner —
 * credentials, store, registry, edge link (MQTT broker, node sync, join endpoints), API
 * server, bootstrap objects, controllers — and the reverse on stop. Owns the AbortController and readiness.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeObject } from "../api/object.js";
import { decodeProtobufBody } from "../api/protobuf/index.js";
import { refs } from "../client/client.js";
import type { AddressPool } from "../lb/index.js";
import { writeFileAtomic } from "../lib/fsutil.js";
import type { Logger } from "../lib/logger.js";
import { StreamMux } from "../transport/streams/index.js";
import { ServiceAccountAdmission } from "./apiserver/admission/service-account.js";
import { ServiceAllocator, wellKnownServiceIPs } from "./apiserver/admission/service-allocator.js";
import { Authenticator, type UserInfo } from "./apiserver/auth.js";
import {
  EscalationCheck,
  ensureBootstrapPolicy,
  RbacAuthorizer,
  RbacPolicyCache,
} from "./apiserver/authz/index.js";
import { builtinResources } from "./apiserver/builtin-resources.js";
import { decodeStored } from "./apiserver/codec.js";
import { CustomResourceCatalog } from "./apiserver/custom-resources/index.js";
import type { ServerParts } from "./apiserver/handlers/context.js";
import { WatchFrames } from "./apiserver/handlers/watch-frames.js";
import { ObjectStore } from "./apiserver/object-store.js";
import { builtInSchema, OpenApiCache } from "./apiserver/openapi/index.js";
import { printerFor } from "./apiserver/printers/index.js";
import { ResourceRegistry } from "./apiserver/registry.js";
import type { RouterExtensions } from "./apiserver/router.js";
import { ApiServer, type ExtraApi, type ResourceUpgradeHandler } from "./apiserver/server.js";
import type { Schema } from "./apiserver/validation/unknown-fields.js";
import { ServiceAccountTokens } from "./auth/service-account-tokens.js";
import { tokenRequestHandler } from "./auth/token-request.js";
import { type Controller, createControllers, EventRecorder, SharedInformers } from "./controllers/index.js";
import { NamespaceController } from "./controllers/namespace/namespace-controller.js";
import { applyDefaultStorageClass, protectionAdmit } from "./controllers/volume/index.js";
import { EdgeService } from "./edge/index.js";
import { ensurePresetToken, type PresetJoinToken } from "./edge/preset-token.js";
import { TokenIssuer } from "./edge/token-issuer.js";
import { kubeconfigYaml, loadOrCreateCredentials } from "./hub-pki.js";
import { LocalClient } from "./local-client.js";
import { MetricsStore, metricsApi } from "./metrics/index.js";
import { podSubresources } from "./pod-subresources.js";
import { Scheduler, StoreBinder } from "./scheduler/index.js";
import { SharedObjects } from "./shared-objects.js";
import { SqliteBackend } from "./store/index.js";
import { podStreams } from "./streams/index.js";

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
  /** watch bookmarks for clients that allow them (default 60 s) */
  bookmarkIntervalMs?: number;
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
  /** lease age after which a node turns Ready=Unknown (default 40 s) */
  nodeMonitorGracePeriodSeconds?: number;
  /** opt-in: delete pods of unreachable nodes after this many seconds (default: never) */
  podEvictionTimeoutSeconds?: number;
  /**
   * Extra API endpoints built once the store exists: pod streams (log/exec/attach/portforward,
   * src/hub/streams) and metrics.k8s.io (src/hub/metrics).
   */
  apiExtensions?: (ctx: { store: ObjectStore; registry: ResourceRegistry }) => ApiExtensions;
  /**
   * LoadBalancer address pools (MetalLB semantics, `metallb.io/allow-shared-ip` sharing); when
   * absent or empty, LoadBalancer services get the addresses of the nodes serving them (klipper)
   */
  loadBalancerPools?: AddressPool[];
  /**
   * `--join-token-file`: the bootstrap token it names is made valid at every start (null = the
   * file holds none: earlier preset tokens are deleted); absent = preset tokens are left alone
   */
  presetJoinToken?: PresetJoinToken | null;
}

export interface ApiExtensions {
  subresources?: RouterExtensions["subresources"];
  onResourceUpgrade?: ResourceUpgradeHandler;
  extraApis?: ExtraApi[];
}

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** what the edge desired index holds besides Nodes (held as views): cached once, shared */
const DESIRED_RESOURCES = [
  refs.pods,
  refs.services,
  refs.endpointslices,
  refs.configmaps,
  refs.secrets,
  refs.persistentvolumeclaims,
  refs.persistentvolumes,
];

export class Hub {
  private readonly abort = new AbortController();
  private backend: SqliteBackend | undefined;
  private server: ApiServer | undefined;
  private nsController: NamespaceController | undefined;
  private edge: EdgeService | undefined;
  private rbac: RbacPolicyCache | undefined;
  private ready = false;
  private controllers: Controller[] = [];
  private streamParts: { stop(): void }[] = [];
  private tokenIssuer: TokenIssuer | undefined;
  /** the garbage collector runs: deletes with Foreground/Orphan get their finalizers */
  private gcRunning = false;
  /** the one informer factory: controllers, scheduler and (through SharedObjects) edge sync */
  informers: SharedInformers | undefined;
  client: LocalClient | undefined;
  store: ObjectStore | undefined;
  registry: ResourceRegistry | undefined;
  kubeconfigPath = "";
  adminToken = "";
  /** "sha256:<hex>" of the cluster CA: what agents pin (`--ca-hash`, the K10 token prefix) */
  caHash = "";

  constructor(private readonly cfg: HubConfig) {}

  get url(): string {
    const a = this.server?.address;
    if (!a) throw new Error("the hub is not started");
    const host =
      this.cfg.advertiseAddress ?? (a.host === "0.0.0.0" || a.host === "::" ? "127.0.0.1" : a.host);
    return `https://${host.includes(":") ? `[${host}]` : host}:${a.port}`;
  }

  /**
   * The edge link's parts (broker, desired index, sync, heartbeats): operators' diagnostics and
   * fault tests that restart the broker on its own, which a hub restart would not isolate.
   */
  get edgeService(): EdgeService {
    if (!this.edge) throw new Error("the hub is not started");
    return this.edge;
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
    // the kubernetes service's and cluster DNS's addresses follow the service CIDR
    const wellKnown = wellKnownServiceIPs(cfg.serviceCIDR);
    const creds = await loadOrCreateCredentials(cfg.dataDir, cfg.tlsSans, wellKnown.kubernetes);
    this.adminToken = creds.adminToken;
    // node:crypto, not lib/pki: @peculiar/x509 loads only on the first join
    this.caHash = `sha256:${createHash("sha256").update(new X509Certificate(creds.ca.certPem).raw).digest("hex")}`;

    this.backend = new SqliteBackend({
      path: join(cfg.dataDir, "state.db"),
      logger: log,
      compactIntervalMs: cfg.compactionIntervalMs ?? 30_000,
      checkpointIntervalMs: cfg.compactionIntervalMs ?? 30_000,
    });
    await this.backend.start(this.abort.signal);

    const registry = new ResourceRegistry(builtinResources());
    this.registry = registry;
    const crds = new CustomResourceCatalog(registry);
    const allocator = new ServiceAllocator(this.backend, {
      serviceCIDR: cfg.serviceCIDR,
      nodePortRange: cfg.nodePortRange,
      reserved: [wellKnown.kubernetes, wellKnown.dns],
    });
    const saInfo = registry.byKind("", "ServiceAccount")!;
    const getServiceAccount = (ns: string, name: string): Promise<KubeObject | undefined> =>
      store.tryGet(saInfo, ns, name);
    const saAdmission = new ServiceAccountAdmission({ getServiceAccount });
    // who is writing, for RBAC's escalation check (set by the API server; empty in-process)
    const requestUser = new AsyncLocalStorage<UserInfo>();
    let escalation: EscalationCheck | undefined;
    const store = new ObjectStore({
      backend: this.backend,
      gcEnabled: () => this.gcRunning,
      admit: async (info, obj, old) => {
        if (info.group === "rbac.authorization.k8s.io")
          escalation?.check(info.kind, obj, requestUser.getStore());
        if (info.group === "" && info.kind === "Service") return allocator.admit(obj, old);
        // StorageObjectInUseProtection: a claim or volume in use outlives its deletion
        if (info.group === "" && !old) protectionAdmit(info.kind, obj);
        if (info.group === "" && info.kind === "Pod" && !old) return saAdmission.admit(obj);
        if (info.group === "" && info.kind === "PersistentVolumeClaim" && !old) {
          const sc = registry.byKind("storage.k8s.io", "StorageClass")!;
          const list = await store.backend.list(store.prefix(sc));
          applyDefaultStorageClass(
            obj,
            list.items.map((kv) => decodeStored(kv.value, kv.revision)),
          );
        }
      },
      customResource: (info, obj, old) => crds.admit(info, obj, old),
    });
    this.store = store;
    const openapi = new OpenApiCache(registry.all(), crds.schemas());
    registry.onChange(() => openapi.update(registry.all(), crds.schemas()));
    const client = new LocalClient(store, registry);
    this.client = client;
    // RBAC reads its own watch-fed cache; the hub's in-process clients bypass HTTP authorization
    const rbac = new RbacPolicyCache({ client, logger: log.child({ component: "rbac" }) });
    this.rbac = rbac;
    const authorizer = new RbacAuthorizer(rbac);
    escalation = new EscalationCheck(authorizer, rbac);
    const parts: ServerParts = {
      authorizer,
      store,
      registry,
      printerFor: (info) => crds.printer(info) ?? printerFor(info.group, info.resource),
      schemas: { schema: (name) => (builtInSchema(name) as Schema | undefined) ?? crds.schema(name) },
      decode: { protobuf: (buf) => decodeProtobufBody(buf) },
      now: () => new Date(),
      logger: log.child({ component: "apiserver" }),
      bookmarkIntervalMs: cfg.bookmarkIntervalMs ?? 60_000,
      watchBufferLimit: 16 * 1024 * 1024,
      watchFrames: new WatchFrames(),
    };
    // one cache per resource for the whole hub; the desired index shares its objects
    const objects = new SharedObjects();
    const informers = new SharedInformers(new LocalClient(store, registry, (kv) => objects.decode(kv)), {
      logger: log.child({ component: "informers" }),
    });
    objects.setLookup((group, resource, key) => informers.cached(group, resource, key));
    informers.register(...DESIRED_RESOURCES);
    this.informers = informers;
    const now = () => new Date();
    const binder = new StoreBinder(store, registry, now);
    const saTokens = ServiceAccountTokens.loadOrCreate(cfg.dataDir);
    const auth = new Authenticator(
      [
        {
          token: creds.adminToken,
          user: { username: "admin", groups: ["system:masters", "system:authenticated"] },
        },
      ],
      // bound tokens die with their pod (checked against the desired index's in-memory pods)
      (token) => saTokens.verify(token, new Date(), (ns, name, uid) => this.podStillBound(ns, name, uid)),
    );
    const backend = this.backend;
    const podsInfo = registry.byKind("", "Pod")!;
    const edge = new EdgeService({
      client,
      backend,
      ca: creds.ca,
      serving: creds.server,
      ticketKeys: creds.ticketKeys,
      mqttHost: cfg.mqttBindAddress ?? cfg.bindAddress,
      mqttPort: cfg.mqttPort ?? 8883,
      clusterCIDR: cfg.clusterCIDR,
      serviceCIDR: cfg.serviceCIDR,
      clusterDNS: wellKnownServiceIPs(cfg.serviceCIDR).dns,
      objects,
      podCreateRevision: async (ns, name) =>
        (await backend.get(store.key(podsInfo, ns, name)))?.createRevision,
      logger: log.child({ component: "edge" }),
      ...(cfg.leaseFlushIntervalMs ? { leaseFlushMs: cfg.leaseFlushIntervalMs } : {}),
      ...(cfg.nodeStatusRefreshMs ? { nodeStatusRefreshMs: cfg.nodeStatusRefreshMs } : {}),
    });
    this.edge = edge;
    // pod-bound service account tokens for projected volumes, asked for over the MQTT link
    const tokenIssuer = new TokenIssuer({
      channel: edge.broker,
      tokens: saTokens,
      getPod: (ns, name) => store.tryGet(podsInfo, ns, name),
      getServiceAccount,
      now,
      logger: log.child({ component: "edge" }),
    });
    this.tokenIssuer = tokenIssuer;
    // logs/exec/attach/port-forward and metrics ride the same MQTT link as the sync protocol
    const mux = new StreamMux({ channel: edge.broker });
    const metrics = new MetricsStore({ source: edge.broker, logger: log.child({ component: "metrics" }) });
    this.streamParts = [mux, metrics];
    const streams = podStreams({
      mux,
      getPod: (ns, name) => store.tryGet(podsInfo, ns, name),
      logger: log.child({ component: "streams" }),
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
    this.server = new ApiServer({
      host: cfg.bindAddress,
      port: cfg.httpsPort,
      tls: { certPem: creds.server.certPem, keyPem: creds.server.keyPem, caPem: creds.ca.certPem },
      auth,
      parts,
      openapi,
      extensions: {
        subresources: new Map([
          ...podSubresources(binder, client, now),
          ["/serviceaccounts/token", tokenRequestHandler(saTokens)],
          ...streams.subresources,
          ...(ext.subresources ?? []),
        ]),
      },
      onResourceUpgrade: ext.onResourceUpgrade ?? streams.onResourceUpgrade,
      extraApis: ext.extraApis ?? [metricsApi(metrics, labelsOf)],
      requestUser,
      ready: () => this.ready,
      routes: edge.routes(),
      upgrades: edge.upgrades(),
      logger: log.child({ component: "apiserver" }),
    });
    await this.bootstrap(store, registry);
    // before the server listens: a replaced preset secret is never accepted, not even briefly
    if (cfg.presetJoinToken !== undefined) await ensurePresetToken(client, cfg.presetJoinToken, log);
    await ensureBootstrapPolicy(client);
    await rbac.start(this.abort.signal);
    // synced before the desired index builds, so its first build reuses these objects
    await informers.start();
    await edge.start();
    await tokenIssuer.start(this.abort.signal);
    await mux.start(this.abort.signal);
    await metrics.start(this.abort.signal);
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

    const events = new EventRecorder(client, log.child({ component: "events" }), now);
    this.controllers = createControllers(
      { client, events, logger: log, now, informers },
      {
        clusterCIDR: cfg.clusterCIDR,
        nodeMonitorGracePeriodSeconds: cfg.nodeMonitorGracePeriodSeconds,
        podEvictionTimeoutSeconds: cfg.podEvictionTimeoutSeconds,
        apiserver: {
          address: this.nodeAddress(),
          port: this.server.address.port,
          serviceIP: wellKnownServiceIPs(cfg.serviceCIDR).kubernetes,
        },
        customResources: crds,
        ...(cfg.loadBalancerPools ? { loadBalancerPools: cfg.loadBalancerPools } : {}),
      },
    );
    this.controllers.push(
      new Scheduler({
        client,
        events,
        logger: log.child({ component: "scheduler" }),
        now,
        binder,
        informers,
      }),
    );
    for (const c of this.controllers) await c.start(this.abort.signal);
    this.gcRunning = this.controllers.some((c) => c.name === "garbage-collector");
    this.ready = true;
    log.info({ url: this.url, kubeconfig: this.kubeconfigPath }, "hub ready");
  }

  /**
   * Is the pod a bound token names still there with that uid? Upstream's bound-object check:
   * a pod deleted more than 60 s ago (or gone, or re-created) invalidates its tokens.
   */
  private podStillBound(ns: string, name: string, uid: string): boolean {
    const pod = this.edge?.index.pod(ns, name);
    if (!pod || pod.metadata.uid !== uid) return false;
    const del = pod.metadata.deletionTimestamp;
    return !del || Date.parse(del) > Date.now() - 60_000;
  }

  /** the address nodes and pods reach the hub at (the `kubernetes` service's endpoint) */
  private nodeAddress(): string | undefined {
    const a = this.cfg.advertiseAddress ?? this.cfg.bindAddress;
    return a === "0.0.0.0" || a === "::" || a === "" ? undefined : a;
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
    this.gcRunning = false;
    for (const c of this.controllers) c.stop();
    this.informers?.stop();
    for (const p of this.streamParts) p.stop();
    this.tokenIssuer?.stop();
    this.nsController?.stop();
    this.rbac?.stop();
    await this.edge?.stop();
    await this.server?.stop();
    await this.backend?.stop();
  }
}
