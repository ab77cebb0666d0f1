/**
 * ApiServer: the hub's HTTPS endpoint. Non-resource paths (health, version, discovery,
 * OpenAPI) are answered here; resource paths go to the router. Other components may claim
 * upgrade paths (MQTT over WebSocket on /mqtt) and subresources (log, exec …).
 *
 * Design notes
 * - TLS only: kubectl sends credentials over HTTPS alone. Client certificates are requested but
 *   not required, so bearer tokens work on the same port.
 * - /healthz, /livez, /readyz and /version are answered before authentication, whatever the
 *   credentials: probes (the Pi image's, load balancers', the benchmarks') send none and must
 *   work with `--anonymous-auth=false` too. Upstream reaches the same answer for anonymous
 *   callers through the system:public-info-viewer binding.
 * - stop() stops accepting, lets the requests being answered finish (at most DRAIN_MS,
 *   request-drain.ts), then closes every connection left, watches included, so a restart
 *   neither cuts a write half-way nor hangs on long-lived watches.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import { ApiError, isApiError } from "../../api/errors.js";
import type { Logger } from "../../lib/logger.js";
import { KUBE_VERSION } from "../../lib/version.js";
import { StoreClosedError } from "../store/backend.js";
import type { Authenticator, UserInfo } from "./auth.js";
import { authorizeRequest } from "./authz/request-authz.js";
import { parseAccept } from "./codec.js";
import { AGGREGATED_CONTENT_TYPE, Discovery } from "./discovery.js";
import type { Call, ServerParts } from "./handlers/context.js";
import { TOKEN_REVIEW_HANDLER_KEY, tokenReviewHandler } from "./handlers/token-review.js";
import { Query, sendError, sendRaw } from "./http.js";
import { loadBuiltInSchemas, type OpenApiCache, serveOpenApiV2, serveOpenApiV3 } from "./openapi/index.js";
import { DRAIN_MS, RequestDrain } from "./request-drain.js";
import { parseResourcePath, type ResourceRequest } from "./request-info.js";
import { parseRequestUrl } from "./request-url.js";
import { type RouterExtensions, routeResource } from "./router.js";

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
/** A non-resource endpoint that authenticates (or not) on its own; errors become Status replies. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** an authenticated upgrade on a resource path (pods/exec, pods/attach, pods/portforward) */
export type ResourceUpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  rr: ResourceRequest,
  user: UserInfo,
) => void;

/** an API group served outside the registry (metrics.k8s.io): discovery plus its requests */
export interface ExtraApi {
  group: string;
  version: string;
  /** APIResourceList entries (name, singularName, namespaced, kind, verbs) */
  resources: Record<string, unknown>[];
  /** handles `/apis/<group>/<version>/<rest…>`; throw ApiError for errors */
  handle(req: IncomingMessage, res: ServerResponse, rest: string[], query: URLSearchParams): Promise<void>;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  tls: { certPem: string; keyPem: string; caPem: string };
  auth: Authenticator;
  parts: ServerParts;
  openapi: OpenApiCache;
  extensions?: RouterExtensions;
  /** upgrade handlers by path, e.g. "/mqtt" */
  upgrades?: Map<string, UpgradeHandler>;
  /**
   * non-resource paths answered before the API's authentication (`/cacerts`, the join
   * endpoint): each handler does its own auth
   */
  routes?: Map<string, RouteHandler>;
  /** upgrades on resource paths that no `upgrades` entry claimed */
  onResourceUpgrade?: ResourceUpgradeHandler;
  extraApis?: ExtraApi[];
  /** readiness beyond "listening" (store open, bootstrap done) */
  ready?: () => boolean;
  logger: Logger;
}

export class ApiServer {
  private server: Server | undefined;
  private stopping: Promise<void> | undefined;
  private readonly requests = new RequestDrain();
  private readonly discovery: Discovery;
  private readonly ext: RouterExtensions;

  constructor(private readonly opts: ApiServerOptions) {
    const extra = opts.extraApis ?? [];
    this.discovery = new Discovery(opts.parts.registry, () =>
      extra.map((e) => ({ group: e.group, version: e.version, resources: e.resources })),
    );
    // TokenReview answers from this server's own authenticator
    this.ext = {
      subresources: new Map([
        [TOKEN_REVIEW_HANDLER_KEY, tokenReviewHandler(opts.auth)],
        ...(opts.extensions?.subresources ?? []),
      ]),
    };
  }

  get address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("the API server is not listening");
    return { host: a.address, port: a.port };
  }

  async start(signal?: AbortSignal): Promise<void> {
    const { tls } = this.opts;
    const server = createServer(
      {
        cert: tls.certPem,
        key: tls.keyPem,
        ca: tls.caPem,
        requestCert: true,
        rejectUnauthorized: false,
        keepAliveTimeout: 65_000,
      },
      (req, res) => {
        this.requests.track(req, res);
        this.handle(req, res).catch((e: unknown) => {
          const shutdown = shutdownError(e);
          if (shutdown) {
            this.opts.logger.debug({ url: req.url }, "request ended by hub shutdown");
            sendError(res, shutdown);
            return;
          }
          // a 4xx is the client's to handle (a 409 on a stale resourceVersion is routine for
          // controllers): only the server's own failures are errors in its log
          if (isApiError(e) && e.code < 500)
            this.opts.logger.debug({ err: e.message, code: e.code, url: req.url }, "request refused");
          else this.opts.logger.error({ err: e, url: req.url }, "request failed");
          sendError(res, e);
        });
      },
    );
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? "/", "https://x").pathname;
      const h = this.opts.upgrades?.get(path);
      if (h) {
        h(req, socket, head);
        return;
      }
      const rr = parseResourcePath(path);
      if (rr?.subresource && this.opts.onResourceUpgrade) {
        const authn = this.opts.auth.authenticateRequest(req);
        if (!("user" in authn)) {
          writeUpgradeError(socket, ApiError.unauthorized());
          return;
        }
        const user = authn.user;
        let acting: UserInfo;
        try {
          const url = new URL(req.url ?? "/", "https://hub");
          acting = authorizeRequest(this.opts.parts.authorizer, req, user, url, { upgrade: true });
        } catch (e) {
          writeUpgradeError(socket, isApiError(e) ? e : ApiError.internal("authorization failed"));
          return;
        }
        this.opts.onResourceUpgrade(req, socket, head, rr, acting);
        return;
      }
      this.handleUpgradeAsRequest(req, socket);
    });
    server.on("clientError", (_err, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.opts.host, port: this.opts.port, backlog: 511 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
  }

  /** an upgrade nobody claimed (exec/port-forward before their handlers exist): a plain 400/404 */
  private handleUpgradeAsRequest(req: IncomingMessage, socket: Duplex): void {
    writeUpgradeError(socket, ApiError.badRequest(`upgrade requests to ${req.url} are not supported`));
  }

  /** Stops accepting, lets requests being answered finish (DRAIN_MS at most), closes the rest. */
  stop(): Promise<void> {
    // the hub's abort signal and its stop() both call this: both wait for the same drain
    this.stopping ??= this.close();
    return this.stopping;
  }

  /** requests being answered now, watches and followed logs excluded */
  get inFlight(): number {
    return this.requests.size;
  }

  private async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeIdleConnections();
    await this.requests.drain(DRAIN_MS);
    s.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseRequestUrl(req.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    switch (path) {
      case "/healthz":
      case "/livez":
        return sendRaw(res, 200, "ok", "text/plain; charset=utf-8");
      case "/readyz":
        return this.opts.ready && !this.opts.ready()
          ? sendRaw(res, 503, "not ready", "text/plain; charset=utf-8")
          : sendRaw(res, 200, "ok", "text/plain; charset=utf-8");
      case "/version":
        return sendRaw(res, 200, JSON.stringify(versionInfo()));
    }
    const route = this.opts.routes?.get(path);
    if (route) return route(req, res);
    const authn = this.opts.auth.authenticateRequest(req);
    if (!("user" in authn)) {
      this.opts.logger.debug({ url: req.url, reason: authn.error }, "unauthenticated request refused");
      sendError(res, ApiError.unauthorized());
      return;
    }
    const authenticated = authn.user;
    // parsed once, for RBAC and for routing
    const rr = parseResourcePath(path);
    // RBAC before routing, as upstream's filter chain: refused requests learn nothing (403, not 404)
    const user = authorizeRequest(this.opts.parts.authorizer, req, authenticated, url, {
      path,
      ...(rr ? { rr } : {}),
    });
    const accept = parseAccept(req.headers.accept);
    if (path === "/api") {
      return accept.aggregatedDiscovery
        ? sendRaw(res, 200, this.discovery.aggregated(true), AGGREGATED_CONTENT_TYPE)
        : sendRaw(res, 200, this.discovery.apiVersions());
    }
    if (path === "/apis") {
      return accept.aggregatedDiscovery
        ? sendRaw(res, 200, this.discovery.aggregated(false), AGGREGATED_CONTENT_TYPE)
        : sendRaw(res, 200, this.discovery.apiGroupList());
    }
    if (path.startsWith("/openapi/v3")) await loadBuiltInSchemas();
    const oa =
      path === "/openapi/v2"
        ? serveOpenApiV2(req.headers.accept)
        : serveOpenApiV3(this.opts.openapi, path, url.searchParams, req.headers["if-none-match"]);
    if (oa) {
      res.writeHead(oa.status, oa.headers);
      res.end(oa.body);
      return;
    }
    const m = /^\/api\/(v1)$/.exec(path) ?? /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const doc = path.startsWith("/api/")
        ? this.discovery.resourceList("", m[1]!)
        : this.discovery.resourceList(m[1]!, m[2]!);
      if (doc) return sendRaw(res, 200, doc);
      throw notFoundPath();
    }
    const g = /^\/apis\/([^/]+)$/.exec(path);
    if (g) {
      const doc = this.discovery.apiGroup(g[1]!);
      if (doc) return sendRaw(res, 200, doc);
      throw notFoundPath();
    }
    const ex = /^\/apis\/([^/]+)\/([^/]+)\/(.+)$/.exec(path);
    const extraApi = ex && this.opts.extraApis?.find((e) => e.group === ex[1] && e.version === ex[2]);
    if (ex && extraApi) {
      return extraApi.handle(req, res, ex[3]!.split("/").map(decodeURIComponent), url.searchParams);
    }
    if (!rr) throw notFoundPath();
    const info = this.opts.parts.registry.get(rr.group, rr.version, rr.resource);
    if (!info) throw notFoundPath();
    if (rr.namespace !== undefined && !info.namespaced) throw notFoundPath();
    const call: Call = {
      req,
      res,
      rr: info.namespaced || rr.namespace === undefined ? rr : rr,
      info,
      query: new Query(url.searchParams),
      accept,
      user,
      parts: this.opts.parts,
      warnings: [],
    };
    const origWriteHead = res.writeHead.bind(res);
    // attach Warning headers collected while handling (fieldValidation=Warn …)
    res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
      if (call.warnings.length > 0)
        res.setHeader(
          "Warning",
          call.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
        );
      return origWriteHead(...args);
    }) as typeof res.writeHead;
    // writes check unknown fields against the built-in schemas (loaded on the first one)
    if (req.method === "POST" || req.method === "PUT" || req.method === "PATCH") await loadBuiltInSchemas();
    // the acting user reaches admission in each write's options (write.ts), not in an
    // AsyncLocalStorage (hub-store.ts says why)
    await routeResource(call, this.ext);
  }
}

/** answers a refused upgrade with a Status body, as upstream does before switching protocols */
export function writeUpgradeError(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? "Error"}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function notFoundPath(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: process.env.EDGEKUBE_BUILD_COMMIT || "unknown",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: `node${process.versions.node}`,
    compiler: "node",
    platform: `linux/${process.arch === "x64" ? "amd64" : process.arch}`,
  };
}

/**
 * A request still running while the hub stops (its store closed under it): 503, which clients
 * retry, instead of a 500 and an error line for each in-flight request of a busy hub.
 */
export function shutdownError(e: unknown): ApiError | undefined {
  return e instanceof StoreClosedError ? ApiError.serviceUnavailable(e.message) : undefined;
}
