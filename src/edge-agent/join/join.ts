/**
 * `edge-agent join`: from a URL and a token to a data dir the agent can run from forever.
 *
 *   token ──► GET /cacerts (unverified) ──► sha256 == token pin? ──no──► CAMismatchError
 *             (no pin + trustFirstCA: the hash is reported via onTrustFirstCA)  │yes
 *   --client-cert only: key + CSR (CN system:node:<name>, O system:nodes); the key never leaves
 *                                                  ▼
 *   POST /edgekube/v1/join (TLS pinned to that CA, Bearer id.secret) ──► MQTT password (or signed
 *   cert), MQTT URLs, pod CIDR ──► checks ──► tls/ca.crt, tls/node.password (0600) or
 *   tls/node.key (0600) + tls/node.crt, agent.json (last)
 *
 * Design notes
 * - The default credential is a per-node MQTT password the hub issues (src/hub/edge/
 *   node-passwords.ts says why); `--client-cert` asks for a certificate instead, and only then is
 *   @peculiar/x509 loaded.
 * - The answer is checked before anything is stored: a certificate must chain to the pinned CA
 *   and name this node, so a confused hub cannot leave a device with credentials that will never
 *   authenticate.
 * - Without a pin (a short preset token) the join runs only when the caller opted into trust on
 *   first use; the hash it trusted is handed back so the operator can compare it with the hub's
 *   (`edge-hub token ca-hash`). From then on the stored CA is pinned like any other.
 * - Re-joining the same hub keeps the cache and outbox (the node resumes from its watermark);
 *   joining a different hub (another CA) wipes them, since revisions of one hub mean nothing to
 *   another.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { caHash } from "../../lib/ca-hash.js";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { NODE_CN_PREFIX, NODES_GROUP } from "../../transport/broker-auth.js";
import {
  type AgentConfig,
  type AgentPaths,
  agentPaths,
  type Credentials,
  saveAgentState,
} from "../config.js";
import type { NodeFacts } from "../node-facts.js";
import { wellKnownLabels } from "../node-status.js";
import type { JoinCredential } from "./credential.js";
import { NO_CA_PIN_HELP } from "./credential.js";
import { fetchCA, fetchPinnedCA, JoinError, requestJoin } from "./hub-client.js";
import type { Taint } from "./options.js";

export interface JoinOptions {
  hubUrl: URL;
  /** caHash (hex) pins the hub's CA; without it trustFirstCA must be true */
  token: JoinCredential;
  /** accept the CA the hub presents when the token has no pin (`--insecure-trust-first-ca`) */
  trustFirstCA?: boolean;
  /** told which CA ("sha256:<hex>") was trusted on first use, for the operator to verify */
  onTrustFirstCA?: (caHash: string) => void;
  nodeName: string;
  /** default: the local address of the connection to the hub */
  nodeIP?: string;
  dataDir: string;
  labels: Record<string, string>;
  taints: Taint[];
  useWebSocket: boolean;
  /** authenticate with a client certificate instead of a password (`--client-cert`) */
  clientCert?: boolean;
  facts: NodeFacts;
  logger?: Logger;
  now?: () => Date;
}

export async function joinHub(o: JoinOptions): Promise<AgentConfig> {
  const log = (o.logger ?? silentLogger()).child({ component: "join", node: o.nodeName });
  const hub = o.hubUrl.origin;
  const { caPem, localAddress, pin } = await trustedCA(o, log);
  const nodeIP = o.nodeIP ?? localAddress;
  if (!nodeIP) throw new JoinError(`cannot tell this device's address towards ${hub}: pass --node-ip`);
  const cn = `${NODE_CN_PREFIX}${o.nodeName}`;
  // @peculiar/x509 loads only for a certificate: an agent on a password never needs it
  const pki = o.clientCert ? await import("../../lib/pki.js") : undefined;
  const csr = pki ? await pki.createCSR(cn, [NODES_GROUP]) : undefined;
  const answer = await requestJoin(o.hubUrl, caPem, `${o.token.id}.${o.token.secret}`, {
    nodeName: o.nodeName,
    nodeIP,
    labels: { ...wellKnownLabels(o.facts, o.nodeName), ...o.labels },
    taints: o.taints,
    ...(csr ? { csr: csr.csrPem } : {}),
    facts: o.facts,
  });
  checkAnswer(hub, o, pin, answer.ca, answer.nodeName);
  let credentials: Credentials;
  if (pki && csr) {
    checkCertificate(hub, caPem, cn, answer.clientCert ?? "", pki.certIdentity);
    credentials = { ca: caPem, cert: answer.clientCert ?? "", key: csr.keyPem };
  } else credentials = { ca: caPem, password: answer.password ?? "" };
  const paths = agentPaths(o.dataDir);
  forgetOtherHub(paths, pin, log);
  const config: AgentConfig = {
    version: 1,
    hubUrl: hub,
    nodeName: o.nodeName,
    nodeIP,
    mqtt: answer.mqtt,
    useWebSocket: o.useWebSocket,
    ...(answer.podCIDR ? { podCIDR: answer.podCIDR } : {}),
    clusterCIDR: answer.clusterCIDR,
    serviceCIDR: answer.serviceCIDR,
    clusterDNS: answer.clusterDNS,
    clusterDomain: answer.clusterDomain,
    joinedAt: (o.now?.() ?? new Date()).toISOString(),
  };
  const saved = saveAgentState(paths, config, credentials);
  log.info(
    { hub, podCIDR: answer.podCIDR, mqtt: o.useWebSocket ? answer.mqtt.wsUrl : answer.mqtt.url },
    "joined",
  );
  return saved;
}

/** The hub's CA, pinned by the token or (explicitly) trusted on first use. */
async function trustedCA(
  o: JoinOptions,
  log: Logger,
): Promise<{ caPem: string; localAddress: string; pin: string }> {
  const hub = o.hubUrl.origin;
  if (o.token.caHash) {
    const pin = `sha256:${o.token.caHash}`;
    const got = await fetchPinnedCA(o.hubUrl, pin);
    log.info({ hub, ca: pin }, "hub CA matches the join token");
    return { ...got, pin };
  }
  if (!o.trustFirstCA) throw new JoinError(NO_CA_PIN_HELP);
  const { caPem, hash, localAddress } = await fetchCA(o.hubUrl);
  log.warn({ hub, ca: hash }, "trusting the hub CA on first use (no pin)");
  o.onTrustFirstCA?.(hash);
  return { caPem, localAddress, pin: hash };
}

const wrongAnswer = (hub: string, what: string) =>
  new JoinError(
    `the hub at ${hub} answered the join with ${what}: nothing was stored; report this to the hub's operator`,
  );

function checkAnswer(hub: string, o: JoinOptions, pin: string, answerCa: string, nodeName: string): void {
  if (nodeName !== o.nodeName) throw wrongAnswer(hub, `node name "${nodeName}" instead of "${o.nodeName}"`);
  if (caHash(answerCa) !== pin) {
    throw wrongAnswer(
      hub,
      `a CA other than the one ${o.token.caHash ? "the token pins" : "it presented on /cacerts"}`,
    );
  }
}

function checkCertificate(
  hub: string,
  caPem: string,
  cn: string,
  certPem: string,
  certIdentity: (pem: string) => { commonName: string; organizations: string[] },
): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw wrongAnswer(hub, "a client certificate that cannot be parsed");
  }
  if (!cert.verify(new X509Certificate(caPem).publicKey))
    throw wrongAnswer(hub, "a client certificate not signed by its CA");
  const id = certIdentity(certPem);
  if (id.commonName !== cn || !id.organizations.includes(NODES_GROUP)) {
    throw wrongAnswer(hub, `a client certificate for "${id.commonName}" instead of "${cn}"`);
  }
}

/** A join to another hub (another CA) makes the cached revisions and queued status meaningless. */
function forgetOtherHub(paths: AgentPaths, wantHash: string, log: Logger): void {
  if (!existsSync(paths.ca)) return;
  let previous: string | undefined;
  try {
    previous = caHash(readFileSync(paths.ca, "utf8"));
  } catch {
    previous = undefined;
  }
  if (previous === wantHash) return;
  log.warn({ previous }, "data dir belonged to another hub; dropping its cache and outbox");
  for (const base of [paths.cache, paths.outbox]) {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${base}${suffix}`, { force: true });
  }
}
