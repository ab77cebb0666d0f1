/**
 * ServiceAccountTokenManager: the agent's source of pod-bound service account tokens for
 * projected `serviceAccountToken` volumes, obtained from the hub over the MQTT link
 * (src/transport/token-frames.ts) — kubelet's token manager, with the link in place of HTTP.
 *
 * Design notes
 * - `get()` is what volume setup awaits. A valid token that is not yet due is returned at once;
 *   one past 80% of its lifetime is returned too while a refresh runs in the background, and
 *   the refreshed token is announced through onChange with its pod's uid, so the pod manager
 *   re-syncs that pod and the atomic writer swaps the `token` file in place. Only a pod without
 *   any valid token waits for the hub (at most `waitMs`), so a new pod starts with its token, as
 *   upstream's does; that first token is not announced, since its pod is the one waiting for
 *   it (announcing it re-synced every pod of the node once per new pod: bench/pods).
 * - While the link is down, a pod without a token fails at once with a message saying so (the
 *   pod manager retries); pods that have one keep it until it expires (TokenCache on disk).
 * - One request in flight per token; after a refusal or timeout the same token is not asked
 *   for again before a back-off (1 s doubling to 60 s), so a pod the hub refuses (deleted
 *   ServiceAccount) costs one message a minute, not one per resync.
 * - Tokens are credentials: they are never logged, only pod names and reasons.
 */
import { randomUUID } from "node:crypto";
import type { KubeObject } from "../../api/object.js";
import { type Logger, silentLogger } from "../../lib/logger.js";
import type { Envelope, EnvelopeOf, EnvelopeType } from "../../transport/envelope.js";
import {
  parseTokenResponse,
  TOKEN_RESPONSE_FRAME,
  TOKEN_TOPIC,
  type TokenRequest,
  type TokenResponse,
  tokenRequestEnvelope,
} from "../../transport/token-frames.js";
import type { ServiceAccountTokenResult } from "../pods/ports.js";
import { type CachedToken, needsRefresh, TokenCache, tokenKey, usable } from "./token-cache.js";

/** The part of EdgeLink the manager uses. */
export interface TokenLink {
  readonly connected: boolean;
  send(env: Envelope, stream: string): Promise<void>;
  on<T extends EnvelopeType>(type: T, handler: (env: EnvelopeOf<T>) => void): () => void;
}

export interface TokenManagerOptions {
  link: TokenLink;
  /** DATA_DIR/sa-tokens.json; undefined = memory only */
  file?: string;
  /** uids of the pods still desired on this node (tokens of others are dropped) */
  livePods?: () => Iterable<string>;
  /** how long a pod without a token waits for the hub (default 10 s) */
  waitMs?: number;
  now?: () => number;
  logger?: Logger;
}

interface Pending {
  resolve(r: TokenResponse): void;
  timer: NodeJS.Timeout;
}

export class ServiceAccountTokenManager {
  private readonly cache: TokenCache;
  private readonly inflight = new Map<string, Promise<ServiceAccountTokenResult>>();
  private readonly pending = new Map<string, Pending>();
  private readonly failures = new Map<string, { retryAt: number; delayMs: number; message: string }>();
  private readonly listeners = new Set<(podUid: string) => void>();
  private off: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: TokenManagerOptions) {
    this.cache = new TokenCache(opts.file);
    this.log = (opts.logger ?? silentLogger()).child({ component: "sa-tokens" });
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.off) return;
    this.off = this.opts.link.on(TOKEN_RESPONSE_FRAME, (env) => this.onResponse(env));
    this.prune();
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  /** Idempotent; waiting callers get an error answer. */
  stop(): void {
    this.off?.();
    this.off = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({
        error: { code: 503, reason: "ServiceUnavailable", message: "the edge agent is stopping" },
      });
      this.pending.delete(id);
    }
  }

  /** Called with the pod's uid after a background refresh issued a new token: re-project its volumes. */
  onChange(cb: (podUid: string) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The token for one serviceAccountToken projection of `pod` ("" audience = the API's). */
  async get(
    pod: KubeObject,
    audience: string,
    expirationSeconds: number,
  ): Promise<ServiceAccountTokenResult> {
    const req: TokenRequest = {
      namespace: pod.metadata.namespace ?? "default",
      pod: pod.metadata.name ?? "",
      podUID: pod.metadata.uid ?? "",
      serviceAccount: serviceAccountOf(pod),
      audience,
      expirationSeconds,
    };
    const key = tokenKey(req.podUID, req.serviceAccount, audience, expirationSeconds);
    const now = this.now();
    const have = this.cache.get(key);
    if (have && usable(have, now)) {
      if (needsRefresh(have, now))
        void this.request(key, req).then((r) => {
          if ("token" in r && r.token !== have.token) for (const cb of this.listeners) cb(req.podUID);
        });
      return { token: have.token };
    }
    return this.request(key, req);
  }

  /** Drops tokens of pods that are gone (called on start and after each issue). */
  prune(): void {
    const live = this.opts.livePods;
    if (live) this.cache.prune(new Set(live()), this.now());
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private request(key: string, req: TokenRequest): Promise<ServiceAccountTokenResult> {
    const running = this.inflight.get(key);
    if (running) return running;
    const failed = this.failures.get(key);
    if (failed && this.now() < failed.retryAt) return Promise.resolve({ error: failed.message });
    if (!this.opts.link.connected) {
      return Promise.resolve({
        error: "no token has been issued for this pod yet and the edge link to the hub is down; retrying",
      });
    }
    const p = this.ask(req).then((res) => this.settle(key, req, res));
    this.inflight.set(key, p);
    void p.finally(() => this.inflight.delete(key));
    return p;
  }

  private ask(req: TokenRequest): Promise<TokenResponse> {
    const id = randomUUID();
    const waitMs = this.opts.waitMs ?? 10_000;
    return new Promise<TokenResponse>((resolve) => {
      const done = (r: TokenResponse) => {
        const p = this.pending.get(id);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(id);
        resolve(r);
      };
      const timer = setTimeout(
        () =>
          done({
            error: {
              code: 504,
              reason: "Timeout",
              message: `the hub did not answer the token request within ${Math.round(waitMs / 1000)} s`,
            },
          }),
        waitMs,
      );
      this.pending.set(id, { resolve: done, timer });
      this.opts.link.send(tokenRequestEnvelope(id, req), TOKEN_TOPIC).catch((err: unknown) =>
        done({
          error: {
            code: 503,
            reason: "ServiceUnavailable",
            message: `the token request could not be sent to the hub: ${(err as Error).message}`,
          },
        }),
      );
    });
  }

  private settle(key: string, req: TokenRequest, res: TokenResponse): ServiceAccountTokenResult {
    const pod = `${req.namespace}/${req.pod}`;
    const now = this.now();
    if ("error" in res) {
      const prev = this.failures.get(key);
      const delayMs = Math.min(60_000, prev ? prev.delayMs * 2 : 1000);
      const message = `the hub refused the service account token: ${res.error.message}`;
      this.failures.set(key, { retryAt: now + delayMs, delayMs, message });
      this.log.info({ pod, reason: res.error.reason, err: res.error.message }, "no service account token");
      // a pod that still holds a valid token keeps using it
      const have = this.cache.get(key);
      return have && usable(have, now) ? { token: have.token } : { error: message };
    }
    this.failures.delete(key);
    const t: CachedToken = {
      token: res.token,
      issuedAt: now,
      expiresAt: Date.parse(res.expirationTimestamp),
    };
    this.cache.set(key, t, now);
    this.prune();
    this.log.debug({ pod, expires: res.expirationTimestamp }, "service account token issued");
    return { token: t.token };
  }

  private onResponse(env: Envelope): void {
    let parsed: ReturnType<typeof parseTokenResponse>;
    try {
      parsed = parseTokenResponse(env);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "dropped token message from hub");
      return;
    }
    this.pending.get(parsed.id)?.resolve(parsed.response);
  }
}

function serviceAccountOf(pod: KubeObject): string {
  const spec = pod.spec as { serviceAccountName?: unknown } | undefined;
  return typeof spec?.serviceAccountName === "string" && spec.serviceAccountName !== ""
    ? spec.serviceAccountName
    : "default";
}
