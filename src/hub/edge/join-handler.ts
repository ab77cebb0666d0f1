/**
 * The hub's two join endpoints on its HTTPS port (see docs/sync-protocol.md, "Join"):
 *   GET  /cacerts           no auth → the cluster CA (PEM, text/plain)
 *   POST /edgekube/v1/join  Bearer <id>.<secret> → Node registered, MQTT password (or, for a
 *                           request with a CSR, a client certificate) issued
 *
 * Design notes
 * - /cacerts is public on purpose: the CA is not secret, and the agent pins it by the hash in
 *   its token before it trusts (or sends) anything else.
 * - Join authenticates with the bootstrap token alone (not the API's authenticator): a token
 *   grants exactly one thing, credentials for `system:node:<name>`. Wrong and expired tokens get
 *   the same 401 (expired ones are deleted on the way).
 * - By default the node gets a password (node-passwords.ts says why); with a CSR, a certificate,
 *   and any password the name had is removed, so a node holds one kind of credential.
 * - The hub signs only the CSR's public key with the subject it verified; the device's private
 *   key never travels. Re-joining a name re-issues a certificate (a re-imaged device).
 * - The MQTT URLs name the host the agent used to reach us (its Host header): that address is
 *   known to work from the device, unlike whatever interfaces the hub has.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "../../api/errors.js";
import {
  CACERTS_PATH,
  JOIN_PATH,
  type JoinRequest,
  type JoinResponse,
  validateJoinRequest,
} from "../../api/join.js";
import { type Client, refs } from "../../client/client.js";
import { parseBearerToken } from "../../lib/join-token.js";
import type { Logger } from "../../lib/logger.js";
import type { CsrError, KeyPairPem, VerifiedCSR } from "../../lib/pki.js";
import { NODE_CN_PREFIX, NODES_GROUP } from "../../transport/broker-auth.js";
import { readBody, sendJson, sendRaw } from "../apiserver/http.js";
import type { RouteHandler } from "../apiserver/server.js";
import { BOOTSTRAP_NAMESPACE, bootstrapSecretName, checkBootstrapToken } from "./bootstrap-token.js";
import { MAX_PASSWORD_NODE_NAME, type NodePasswords, nodePasswordSecretName } from "./node-passwords.js";
import { registerNode } from "./node-registration.js";

export interface JoinHandlerDeps {
  client: Client;
  ca: KeyPairPem;
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  /** the broker's TLS port (known only after it started when configured as 0) */
  mqttPort: () => number;
  /** issues and removes per-node MQTT passwords (node-passwords.ts) */
  passwords: Pick<NodePasswords, "issue" | "forget">;
  /** client certificate lifetime */
  certDays?: number;
  now?: () => Date;
  logger: Logger;
}

const TOKEN_HELP = 'create a new token on the hub with "edge-hub token create" and join again';

export class JoinHandler {
  private readonly now: () => Date;

  constructor(private readonly deps: JoinHandlerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Routes for ApiServerOptions.routes (answered before the API's authentication). */
  routes(): Map<string, RouteHandler> {
    return new Map<string, RouteHandler>([
      [CACERTS_PATH, (req, res) => this.cacerts(req, res)],
      [JOIN_PATH, (req, res) => this.join(req, res)],
    ]);
  }

  private async cacerts(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") throw ApiError.methodNotAllowed("use GET /cacerts");
    sendRaw(res, 200, this.deps.ca.certPem, "text/plain; charset=utf-8");
  }

  private async join(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") throw ApiError.methodNotAllowed(`use POST ${JOIN_PATH}`);
    await this.authenticate(req);
    const raw = await readBody(req, 64 * 1024);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      throw ApiError.badRequest("the join request body is not valid JSON");
    }
    const checked = validateJoinRequest(body);
    if ("causes" in checked) throw ApiError.invalid("JoinRequest", nameOf(body), checked.causes);
    const request = checked.request;
    let credential: Pick<JoinResponse, "clientCert" | "password">;
    if (request.csr) {
      credential = { clientCert: await this.sign(request, request.csr) };
      await this.deps.passwords.forget(request.nodeName);
    } else credential = { password: await this.issuePassword(request.nodeName) };
    const node = await registerNode(this.deps.client, request, this.now());
    const { host, port: httpsPort } = requestHost(req);
    const podCIDR = (node.spec as { podCIDR?: string } | undefined)?.podCIDR;
    const reply: JoinResponse = {
      nodeName: request.nodeName,
      ...credential,
      ca: this.deps.ca.certPem,
      mqtt: {
        url: `mqtts://${host}:${this.deps.mqttPort()}`,
        wsUrl: `wss://${host}:${httpsPort}/mqtt`,
      },
      ...(podCIDR ? { podCIDR } : {}),
      clusterCIDR: this.deps.clusterCIDR,
      serviceCIDR: this.deps.serviceCIDR,
      clusterDNS: this.deps.clusterDNS,
      clusterDomain: this.deps.clusterDomain,
    };
    this.deps.logger.info(
      { node: request.nodeName, ip: request.nodeIP, credential: request.csr ? "certificate" : "password" },
      "node joined",
    );
    sendJson(res, 200, reply);
  }

  private async authenticate(req: IncomingMessage): Promise<void> {
    const h = req.headers.authorization ?? "";
    const presented = h.startsWith("Bearer ") ? parseBearerToken(h.slice(7)) : undefined;
    if (!presented) {
      throw ApiError.unauthorized(
        `the join request carries no bootstrap token (Bearer <id>.<secret>): ${TOKEN_HELP}`,
      );
    }
    const name = bootstrapSecretName(presented.id);
    const stored = await this.deps.client.get(refs.secrets, BOOTSTRAP_NAMESPACE, name);
    const verdict = checkBootstrapToken(stored, presented.secret, this.now());
    if (verdict === "ok") return;
    if (verdict === "expired") {
      await this.deps.client.delete(refs.secrets, BOOTSTRAP_NAMESPACE, name).catch(() => {});
    }
    this.deps.logger.warn({ tokenId: presented.id, verdict }, "join refused");
    throw ApiError.unauthorized(`the join token is not valid or has expired: ${TOKEN_HELP}`);
  }

  private async issuePassword(node: string): Promise<string> {
    if (node.length > MAX_PASSWORD_NODE_NAME) {
      throw ApiError.invalid("JoinRequest", node, [
        {
          reason: "FieldValueInvalid",
          field: "nodeName",
          message: `a node name of ${node.length} characters leaves no room for its password Secret "${nodePasswordSecretName("…")}": use at most ${MAX_PASSWORD_NODE_NAME} characters, or join with --client-cert`,
        },
      ]);
    }
    return this.deps.passwords.issue(node);
  }

  private async sign(request: JoinRequest, csr: string): Promise<string> {
    const want = `${NODE_CN_PREFIX}${request.nodeName}`;
    // @peculiar/x509 (≈19 MB resident) loads on the first join with a CSR, not with every hub
    const { verifyCSR, signVerifiedCSR } = await import("../../lib/pki.js");
    let subject: VerifiedCSR;
    try {
      // parsed and verified once, then signed as is (no second parse for signing)
      subject = await verifyCSR(csr);
    } catch (err) {
      throw ApiError.invalid("JoinRequest", request.nodeName, [
        { reason: "FieldValueInvalid", field: "csr", message: (err as CsrError).message },
      ]);
    }
    if (subject.commonName !== want || !subject.organizations.includes(NODES_GROUP)) {
      throw ApiError.invalid("JoinRequest", request.nodeName, [
        {
          reason: "FieldValueInvalid",
          field: "csr",
          message: `the CSR asks for CN "${subject.commonName}", O ${JSON.stringify(subject.organizations)}; a node's CSR must have CN "${want}" and O "${NODES_GROUP}"`,
        },
      ]);
    }
    return signVerifiedCSR(this.deps.ca, subject, { usage: "client", days: this.deps.certDays ?? 3650 });
  }
}

function nameOf(body: unknown): string {
  const n = (body as { nodeName?: unknown } | null)?.nodeName;
  return typeof n === "string" ? n : "";
}

/**
 * Host and port the client used (its Host header; brackets kept for IPv6), falling back to
 * the socket's local address and port.
 */
export function requestHost(req: IncomingMessage): { host: string; port: number } {
  const localPort = req.socket.localPort ?? 6443;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? "");
  if (m?.[1]) return { host: m[1], port: m[2] ? Number(m[2]) : localPort };
  const a = req.socket.localAddress ?? "127.0.0.1";
  return { host: a.includes(":") ? `[${a}]` : a, port: localPort };
}
