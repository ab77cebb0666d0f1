/**
 * Who is on the other end of a broker connection, and what it may touch.
 *
 * Design notes
 * - Identity comes from the TLS layer first: a client certificate signed by the cluster CA with
 *   CN `system:node:<name>` and O `system:nodes` (the kubelet convention) names the node. A
 *   certificate that does not verify against the CA is refused at the TLS layer (broker.ts), never
 *   silently downgraded to "anonymous".
 * - Otherwise the injected `authenticate(username, password, cert)` callback decides (per-node
 *   secrets issued at join); it also sees the certificate identity so a caller can combine both.
 * - The MQTT client id must equal the node name: MQTT lets a new connection with the same client id
 *   take over (disconnect) the old one, so a free choice of id would let node A kick node B off.
 * - ACL decisions are pure functions of (node, topic) in topics.ts; this module only wires them
 *   to aedes' callbacks, refuses QoS 2 (we only use QoS 0/1) and strips the retain flag so a node
 *   cannot park data in the broker.
 */
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { AuthenticateError, Client, PublishPacket, Subscription } from "aedes";
import type { Logger } from "../lib/logger.js";
import { mayPublish, maySubscribe, nodeNameProblem } from "./topics.js";

export interface CertIdentity {
  commonName: string;
  organizations: string[];
}

export interface NodePrincipal {
  node: string;
}

/** Password (or combined) authentication of a node; null = refuse. */
export type Authenticator = (
  username: string | undefined,
  password: Buffer | undefined,
  cert: CertIdentity | undefined,
) => Promise<NodePrincipal | null> | NodePrincipal | null;

export const NODE_CN_PREFIX = "system:node:";
export const NODES_GROUP = "system:nodes";

/** The node a verified client certificate names, if it is a node certificate. */
export function nodeFromCert(cert: CertIdentity | undefined): string | undefined {
  if (!cert?.commonName.startsWith(NODE_CN_PREFIX) || !cert.organizations.includes(NODES_GROUP)) {
    return undefined;
  }
  const node = cert.commonName.slice(NODE_CN_PREFIX.length);
  return nodeNameProblem(node) === undefined ? node : undefined;
}

/**
 * The verified peer certificate's subject, undefined when none was presented; "invalid" when one
 * was presented but does not chain to the cluster CA (or is expired).
 */
export function peerIdentity(socket: TLSSocket): CertIdentity | "invalid" | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!socket.authorized) return "invalid";
  // a resumed TLS session is not re-verified: its certificate may have expired since
  if (cert.valid_to && Date.parse(cert.valid_to) < Date.now()) return "invalid";
  const orgs = cert.subject?.O;
  return {
    commonName: typeof cert.subject?.CN === "string" ? cert.subject.CN : "",
    organizations: orgs === undefined ? [] : Array.isArray(orgs) ? orgs : [orgs],
  };
}

function authError(message: string, returnCode: AuthenticateError["returnCode"]): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

export type Denial = { node: string; action: "publish" | "subscribe"; topic: string };

/** aedes handlers for authentication and ACLs; one per broker instance. */
export class BrokerGuard {
  /** TLS identity per connection stream handed to aedes (set before aedes sees the stream) */
  readonly certs = new WeakMap<Duplex, CertIdentity>();
  private readonly principals = new WeakMap<Client, string>();

  constructor(
    private readonly log: Logger,
    private readonly passwordAuth: Authenticator | undefined,
    private readonly onDenied: (d: Denial) => void,
    private readonly onRejected: (reason: string) => void,
  ) {}

  nodeOf(client: Client): string | undefined {
    return this.principals.get(client);
  }

  readonly authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    this.resolve(client, username, password).then(
      (node) => {
        this.principals.set(client, node);
        done(null, true);
      },
      (err: AuthenticateError) => {
        this.onRejected(err.message);
        this.log.warn({ clientId: client.id, err: err.message }, "mqtt connection refused");
        done(err, false);
      },
    );
  };

  private async resolve(client: Client, username?: string, password?: Buffer): Promise<string> {
    const cert = this.certs.get(client.conn);
    let node = nodeFromCert(cert);
    if (node === undefined && this.passwordAuth && username !== undefined) {
      node = (await this.passwordAuth(username, password, cert))?.node;
      if (node === undefined) throw authError(`bad username or password for "${username}"`, 4);
    }
    if (node === undefined) {
      throw authError("no node credentials: present a node client certificate or a username/password", 5);
    }
    if (client.id !== node) {
      throw authError(`client id "${client.id}" must equal the authenticated node name "${node}"`, 2);
    }
    return node;
  }

  readonly authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void => {
    // client is null only for a stored will published after its client vanished; wills were
    // checked against the ACL when they were first published on disconnect
    const node = client ? this.principals.get(client) : undefined;
    if (client && (node === undefined || !mayPublish(node, packet.topic))) {
      this.onDenied({ node: node ?? "", action: "publish", topic: packet.topic });
      done(new Error(`node "${node}" may not publish to ${packet.topic}`));
      return;
    }
    packet.retain = false;
    done(null);
  };

  readonly authorizeSubscribe = (
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const node = this.principals.get(client);
    if (node === undefined || !maySubscribe(node, sub.topic)) {
      this.onDenied({ node: node ?? "", action: "subscribe", topic: sub.topic });
      done(null, null); // SUBACK 0x80: refused, connection stays up
      return;
    }
    if (sub.qos > 1) sub.qos = 1;
    done(null, sub);
  };
}
