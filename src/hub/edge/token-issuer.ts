/**
 * TokenIssuer: the hub's answer to agents asking for pod-bound service account tokens over the
 * edge link (src/transport/token-frames.ts) — what TokenRequest plus the NodeRestriction
 * admission plugin do for a kubelet upstream.
 *
 * Design notes
 * - The requesting node is the MQTT identity (the broker authenticated it; topics are per-node),
 *   never a field of the message. A node gets tokens only for pods bound to it
 *   (spec.nodeName), for the pod's own service account, with the pod's current uid, and only
 *   for an audience one of the pod's serviceAccountToken projections asks for — a node cannot
 *   mint credentials for pods or audiences it does not host.
 * - Tokens are bound to the pod (name and uid in the `kubernetes.io` claim): the API server's
 *   authenticator refuses them once the pod is gone (hub.ts wires that check).
 * - Upstream's limits: at least 10 minutes; the 3607 s the admission plugin asks for is issued
 *   as asked (upstream may extend it to a year with a warn-after claim; we do not).
 * - Nothing here is persisted and tokens are never logged; a refused request is answered with
 *   the reason so the agent's FailedMount event says what is wrong.
 */
import { isObject, type KubeObject } from "../../api/object.js";
import type { Logger } from "../../lib/logger.js";
import type { Envelope } from "../../transport/envelope.js";
import {
  parseTokenRequest,
  TOKEN_REQUEST_FRAME,
  TOKEN_TOPIC,
  type TokenRequest,
  type TokenResponse,
  tokenResponseEnvelope,
} from "../../transport/token-frames.js";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.js";

/** Where requests come from and answers go (MqttBroker fits). */
export interface TokenChannel {
  send(node: string, env: Envelope, stream: string): Promise<void>;
  onEnvelope(handler: (node: string, env: Envelope, stream: string) => void): () => void;
}

export interface TokenIssuerOptions {
  channel: TokenChannel;
  tokens: Pick<ServiceAccountTokens, "issue">;
  getPod(namespace: string, name: string): Promise<KubeObject | undefined>;
  getServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  now?: () => Date;
  logger: Logger;
}

/** upstream's floor for any service account token */
export const MIN_TOKEN_SECONDS = 600;

class Refused extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "TokenRefused";
  }
}

/** Audiences the pod's serviceAccountToken projections ask for ("" = the API server's). */
export function podTokenAudiences(pod: KubeObject): Set<string> {
  const out = new Set<string>();
  const spec = isObject(pod.spec) ? pod.spec : {};
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!isObject(v) || !isObject(v.projected) || !Array.isArray(v.projected.sources)) continue;
    for (const s of v.projected.sources) {
      if (isObject(s) && isObject(s.serviceAccountToken)) {
        const a = s.serviceAccountToken.audience;
        out.add(typeof a === "string" ? a : "");
      }
    }
  }
  return out;
}

export class TokenIssuer {
  private off: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: TokenIssuerOptions) {
    this.log = opts.logger.child({ component: "token-issuer" });
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.off) return;
    this.off = this.opts.channel.onEnvelope((node, env, stream) => {
      if (stream !== TOKEN_TOPIC || env.type !== TOKEN_REQUEST_FRAME) return;
      void this.handle(node, env);
    });
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  private async handle(node: string, env: Envelope): Promise<void> {
    let id: string;
    let req: TokenRequest;
    try {
      ({ id, request: req } = parseTokenRequest(env));
    } catch (err) {
      this.log.warn({ node, err: (err as Error).message }, "dropped token request");
      return;
    }
    let res: TokenResponse;
    try {
      res = await this.issue(node, req);
      this.log.debug({ node, pod: `${req.namespace}/${req.pod}`, sa: req.serviceAccount }, "token issued");
    } catch (err) {
      const e =
        err instanceof Refused ? err : new Refused(500, "InternalError", `token not issued: ${String(err)}`);
      if (!(err instanceof Refused)) this.log.error({ node, err }, "token request failed");
      else this.log.info({ node, pod: `${req.namespace}/${req.pod}`, reason: e.message }, "token refused");
      res = { error: { code: e.code, reason: e.reason, message: e.message } };
    }
    await this.opts.channel.send(node, tokenResponseEnvelope(id, res), TOKEN_TOPIC).catch((err: unknown) => {
      this.log.debug({ node, err: (err as Error).message }, "token answer not delivered; the agent retries");
    });
  }

  /** The checks of TokenRequest + NodeRestriction, then the signed token. */
  async issue(node: string, req: TokenRequest): Promise<TokenResponse> {
    const pod = await this.opts.getPod(req.namespace, req.pod);
    const ref = `${req.namespace}/${req.pod}`;
    if (!pod)
      throw new Refused(404, "NotFound", `pods "${req.pod}" not found in namespace "${req.namespace}"`);
    if (pod.metadata.uid !== req.podUID) {
      throw new Refused(
        409,
        "Conflict",
        `the UID in the bound object reference (${req.podUID}) does not match the UID of pod ${ref}: ` +
          "the pod was deleted and created again; the agent asks again for the new pod",
      );
    }
    const spec = isObject(pod.spec) ? pod.spec : {};
    if (spec.nodeName !== node) {
      throw new Refused(
        403,
        "Forbidden",
        `node "${node}" requested a token bound to pod ${ref}, which is not scheduled on it`,
      );
    }
    const sa = typeof spec.serviceAccountName === "string" ? spec.serviceAccountName : "default";
    if (sa !== req.serviceAccount) {
      throw new Refused(
        403,
        "Forbidden",
        `node "${node}" requested a token for service account "${req.serviceAccount}", ` +
          `but pod ${ref} runs as "${sa}"`,
      );
    }
    if (!podTokenAudiences(pod).has(req.audience)) {
      throw new Refused(
        403,
        "Forbidden",
        `audience "${req.audience}" is not requested by any serviceAccountToken volume of pod ${ref}`,
      );
    }
    if (req.expirationSeconds < MIN_TOKEN_SECONDS || req.expirationSeconds > 2 ** 32) {
      throw new Refused(
        422,
        "Invalid",
        `expirationSeconds ${req.expirationSeconds} is out of range: use 600 (10 minutes) to 2^32 seconds`,
      );
    }
    const account = await this.opts.getServiceAccount(req.namespace, sa);
    if (!account) {
      throw new Refused(
        404,
        "NotFound",
        `serviceaccounts "${sa}" not found in namespace "${req.namespace}": create it (kubectl create serviceaccount ${sa} -n ${req.namespace})`,
      );
    }
    return this.opts.tokens.issue({
      namespace: req.namespace,
      name: sa,
      uid: account.metadata.uid ?? "",
      ...(req.audience ? { audiences: [req.audience] } : {}),
      expirationSeconds: req.expirationSeconds,
      pod: { name: req.pod, uid: req.podUID },
      now: (this.opts.now ?? (() => new Date()))(),
    });
  }
}
