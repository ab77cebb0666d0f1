/**
 * Per-node MQTT passwords: the credential `edge-agent join` gets by default, presented as the
 * MQTT CONNECT's username (the node name) and password on every connection.
 *
 *   join ──► 32 random bytes (base64url) ──► Secret kube-system/<node>.node-password.edgekube
 *            returned once to the agent          type edgekube.io/node-password, data.hash = sha256
 *   CONNECT(username, password) ──► shared informer's cached Secret ──► sha256 equal? ──► node
 *   Secret deleted or replaced ──► the node's live connections are closed
 *
 * Design notes
 * - Why not only client certificates: OpenSSL keeps a presented certificate and its key in the
 *   session for the connection's life, 5–8 KB of the hub's malloc heap per connected node
 *   (docs/hub-memory.md §8), and a join that signs a CSR loads @peculiar/x509 into the hub for
 *   good. A certificate also cannot be revoked here; a password can (delete its Secret). Nodes
 *   that joined with `--client-cert` keep authenticating with their certificate (broker-auth.ts
 *   tries it first).
 * - Stored the way k3s stores node passwords (`<node>.node-password.k3s`), so an operator finds
 *   and revokes them with kubectl. Only a hash is stored. The password carries 256 random bits, so
 *   a plain sha256 suffices: there is nothing to brute-force, and a slow hash would cost
 *   milliseconds per CONNECT in a reconnect storm of thousands.
 * - Checked against the shared informer's cache, not the store: no read per CONNECT. A join waits
 *   until its Secret is in that cache before it answers, so the agent's first CONNECT finds it;
 *   a check before the cache's first sync waits for the sync (a restarted hub does not refuse
 *   its fleet).
 * - Revocation is immediate: when a node's Secret is deleted, or replaced by a re-join with a new
 *   hash, its live connections are closed; the next CONNECT is refused ("bad username or
 *   password"), and the agent logs that the node must join again.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { KubeObject } from "../../api/object.js";
import { type Client, isConflict, isNotFound, refs } from "../../client/client.js";
import type { InformerCache } from "../../client/informer.js";
import type { Logger } from "../../lib/logger.js";
import type { NodePrincipal } from "../../transport/broker-auth.js";

export const NODE_PASSWORD_NAMESPACE = "kube-system";
export const NODE_PASSWORD_SUFFIX = ".node-password.edgekube";
export const NODE_PASSWORD_TYPE = "edgekube.io/node-password";
/** longest node name whose Secret name stays within Kubernetes' 253 characters */
export const MAX_PASSWORD_NODE_NAME = 253 - NODE_PASSWORD_SUFFIX.length;

export function nodePasswordSecretName(node: string): string {
  return `${node}${NODE_PASSWORD_SUFFIX}`;
}

/** The node a node-password Secret name belongs to, if it is one. */
export function nodeOfPasswordSecret(name: string): string | undefined {
  return name.endsWith(NODE_PASSWORD_SUFFIX) ? name.slice(0, -NODE_PASSWORD_SUFFIX.length) : undefined;
}

export function newNodePassword(): string {
  return randomBytes(32).toString("base64url");
}

export function passwordHash(password: Buffer | string): string {
  return createHash("sha256").update(password).digest("hex");
}

export function nodePasswordSecret(node: string, password: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: nodePasswordSecretName(node),
      namespace: NODE_PASSWORD_NAMESPACE,
      // an annotation, not a label: a node name may be longer than a label value's 63 characters
      annotations: { "edgekube.io/node": node },
    },
    type: NODE_PASSWORD_TYPE,
    data: { hash: Buffer.from(passwordHash(password)).toString("base64") },
  };
}

/** The stored hash (hex) of a node-password Secret; undefined when it is not one. */
export function storedHash(s: KubeObject | undefined): string | undefined {
  if (!s || (s as { type?: unknown }).type !== NODE_PASSWORD_TYPE) return undefined;
  const v = (s as { data?: Record<string, unknown> }).data?.hash;
  if (typeof v !== "string") return undefined;
  const hex = Buffer.from(v, "base64").toString("utf8");
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** Does `password` match the Secret's hash (constant time)? */
export function passwordMatches(s: KubeObject | undefined, password: Buffer | undefined): boolean {
  const want = storedHash(s);
  if (want === undefined || password === undefined || password.length === 0) return false;
  return timingSafeEqual(Buffer.from(passwordHash(password), "hex"), Buffer.from(want, "hex"));
}

export interface NodePasswordsOptions {
  client: Client;
  /** the hub's shared Secret informer (a handle: start() acquires it) */
  secrets: InformerCache;
  /** resolves once the cache holds the written Secret (SharedInformers.awaitWrite) */
  awaitCached: (written: KubeObject) => Promise<void>;
  /** closes the node's live MQTT connections */
  disconnect: (node: string) => void;
  logger: Logger;
}

export class NodePasswords {
  private off: (() => void) | undefined;

  constructor(private readonly opts: NodePasswordsOptions) {}

  async start(): Promise<void> {
    this.off = this.opts.secrets.addHandlers({
      onUpdate: (obj, old) => {
        if (storedHash(obj) !== storedHash(old)) this.revoked(old, "replaced");
      },
      onDelete: (obj) => this.revoked(obj, "deleted"),
    });
    await this.opts.secrets.start();
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
    this.opts.secrets.stop();
  }

  /** A new password for `node` (replacing any earlier one); the caller hands it to the node once. */
  async issue(node: string): Promise<string> {
    const password = newNodePassword();
    const want = nodePasswordSecret(node, password);
    const { client } = this.opts;
    let written: KubeObject | undefined;
    for (let attempt = 0; written === undefined; attempt++) {
      const cur = await client.get(refs.secrets, NODE_PASSWORD_NAMESPACE, want.metadata.name ?? "");
      try {
        written = cur
          ? await client.update(refs.secrets, NODE_PASSWORD_NAMESPACE, {
              ...cur,
              metadata: {
                ...cur.metadata,
                annotations: { ...cur.metadata.annotations, ...want.metadata.annotations },
              },
              type: NODE_PASSWORD_TYPE,
              data: want.data,
            } as KubeObject)
          : await client.create(refs.secrets, NODE_PASSWORD_NAMESPACE, want);
      } catch (err) {
        // created or changed by a concurrent join of the same name: read again
        if (attempt >= 3 || !isConflict(err)) throw err;
      }
    }
    await this.opts.awaitCached(written);
    return password;
  }

  /** Removes `node`'s password, if it has one (it joined again with a client certificate). */
  async forget(node: string): Promise<void> {
    await this.opts.client
      .delete(refs.secrets, NODE_PASSWORD_NAMESPACE, nodePasswordSecretName(node))
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
  }

  /** The broker's password authenticator (broker-auth.ts Authenticator). */
  readonly verify = async (
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<NodePrincipal | null> => {
    if (username === undefined || username === "") return null;
    if (!this.opts.secrets.hasSynced()) await this.opts.secrets.waitForSync();
    const key = `${NODE_PASSWORD_NAMESPACE}/${nodePasswordSecretName(username)}`;
    return passwordMatches(this.opts.secrets.get(key), password) ? { node: username } : null;
  };

  private revoked(s: KubeObject, how: "deleted" | "replaced"): void {
    if (s.metadata.namespace !== NODE_PASSWORD_NAMESPACE || storedHash(s) === undefined) return;
    const node = nodeOfPasswordSecret(s.metadata.name ?? "");
    if (node === undefined) return;
    this.opts.logger.info({ node, secret: s.metadata.name }, `node password ${how}: closing its connections`);
    this.opts.disconnect(node);
  }
}
