/**
 * The hub's composition root: a straight-line start-up script in the k3s manner —
 * credentials, store, registry, edge link (MQTT broker, node sync, join endpoints), API
 * server, bootstrap objects, controllers — and the reverse on stop. Owns the AbortController and readiness.
 *
 * Design notes
 * - Stop order: the abort signal stops what serves or reacts (API server intake, controllers,
 *   informers, streams) at once; the API server then drains the requests it is answering and
 *   the edge link writes what it coalesced; the store closes last, after both. The store is
 *   therefore not on the abort signal: a store closed first made every one of those writes
 *   fail (docs/apiserver.md, "Stopping").
 */
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { refs } from "../client/client.js";
import { writeFileAtomic } from "../lib/fsutil.js";
import { StreamMux } from "../transport/streams/index.js";
import { wellKnownServiceIPs } from "./apiserver/admission/service-allocator.js";
import {
  EscalationCheck,
  ensureBootstrapPolicy,
  RbacAuthorizer,
  RbacPolicyCache,
} from "./apiserver/authz/index.js";
import type { ObjectStore } from "./apiserver/object-store.js";
import { OpenApiCache } from "./apiserver/openapi/index.js";
import type { ResourceRegistry } from "./apiserver/registry.js";
import type { ApiServer } from "./apiserver/server.js";
import { ServiceAccountTokens } from "./auth/service-account-tokens.js";
import { type Controller, createControllers, EventRecorder, SharedInformers } from "./controllers/index.js";
import { NamespaceController } from "./controllers/namespace/namespace-controller.js";
import { EdgeService } from "./edge/index.js";
import { ensurePresetToken } from "./edge/preset-token.js";
import { TokenIssuer } from "./edge/token-issuer.js";
import { createHubApiServer } from "./hub-api.js";
import { createHubAuthenticator } from "./hub-auth.js";
import type { HubConfig } from "./hub-config.js";
import { kubeconfigYaml, loadOrCreateCredentials, ticketKeyFile } from "./hub-pki.js";
import { createHubStore, ensureDefaultNamespaces } from "./hub-store.js";
import { LocalClient } from "./local-client.js";
import { MetricsStore } from "./metrics/index.js";
import { Scheduler, StoreBinder } from "./scheduler/index.js";
import { SharedObjects } from "./shared-objects.js";
import { SqliteBackend } from "./store/index.js";

export type { ApiExtensions, HubConfig } from "./hub-config.js";

export { DEFAULT_NAMESPACES } from "./hub-store.js";

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

  /** API requests being answered now, watches and followed logs excluded: what a stop waits for. */
  get apiRequestsInFlight(): number {
    return this.server?.inFlight ?? 0;
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
    // not on the abort signal: stop() closes the store last, after the edge link has written
    // what it coalesced in memory (renewals, pending status) and the API server has drained
    await this.backend.start();

    const { store, registry, crds, getServiceAccount, setEscalation } = createHubStore({
      backend: this.backend,
      serviceCIDR: cfg.serviceCIDR,
      nodePortRange: cfg.nodePortRange,
      gcEnabled: () => this.gcRunning,
    });
    this.registry = registry;
    this.store = store;
    const openapi = new OpenApiCache(registry.all(), crds.schemas());
    registry.onChange(() => openapi.update(registry.all(), crds.schemas()));
    const client = new LocalClient(store, registry);
    this.client = client;
    // RBAC reads its own watch-fed cache; the hub's in-process clients bypass HTTP authorization
    const rbac = new RbacPolicyCache({ client, logger: log.child({ component: "rbac" }) });
    this.rbac = rbac;
    const authorizer = new RbacAuthorizer(rbac);
    setEscalation(new EscalationCheck(authorizer, rbac));
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
    const auth = createHubAuthenticator({
      adminToken: creds.adminToken,
      saTokens,
      getSecret: (ns, name) => informers.cached("", "secrets", `${ns}/${name}`),
      // bound tokens die with their pod (checked against the desired index's in-memory pods)
      podStillBound: (ns, name, uid) => this.podStillBound(ns, name, uid),
      anonymous: cfg.anonymousAuth ?? true,
      now,
    });
    const backend = this.backend;
    const podsInfo = registry.byKind("", "Pod")!;
    const edge = new EdgeService({
      client,
      backend,
      ca: creds.ca,
      serving: creds.server,
      ticketKeys: creds.ticketKeys,
      ticketKeyFile: ticketKeyFile(cfg.dataDir),
      mqttHost: cfg.mqttBindAddress ?? cfg.bindAddress,
      mqttPort: cfg.mqttPort ?? 8883,
      clusterCIDR: cfg.clusterCIDR,
      serviceCIDR: cfg.serviceCIDR,
      clusterDNS: wellKnownServiceIPs(cfg.serviceCIDR).dns,
      objects,
      informers,
      podCreateRevision: async (ns, name) =>
        (await backend.get(store.key(podsInfo, ns, name)))?.createRevision,
      logger: log,
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
      logger: log,
    });
    this.tokenIssuer = tokenIssuer;
    // logs/exec/attach/port-forward and metrics ride the same MQTT link as the sync protocol
    const mux = new StreamMux({ channel: edge.broker });
    const metrics = new MetricsStore({ source: edge.broker, logger: log.child({ component: "metrics" }) });
    this.streamParts = [mux, metrics];
    this.server = createHubApiServer({
      cfg,
      tls: { certPem: creds.server.certPem, keyPem: creds.server.keyPem, caPem: creds.ca.certPem },
      auth,
      authorizer,
      store,
      registry,
      crds,
      openapi,
      client,
      binder,
      saTokens,
      edge,
      mux,
      metrics,
      ready: () => this.ready,
      now,
      logger: log,
    });
    await ensureDefaultNamespaces(store, registry);
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
