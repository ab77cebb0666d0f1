/**
 * `edge-agent join`: from a URL and a token to a data dir the agent can run from forever.
 *
 *   token ──► GET /cacerts (unverified) ──► sha256 == token pin? ──no──► CAMismatchError
 *                                                  │yes
 *   key + CSR (CN system:node:<name>, O system:nodes) generated here; the key never leaves
 *                                                  ▼
 *   POST /edgekube/v1/join (TLS pinned to that CA, Bearer id.secret) ──► signed cert, MQTT URLs,
 *   pod CIDR ──► checks ──► tls/ca.crt, tls/node.key (0600), tls/node.crt, agent.json (last)
 *
 * Design notes
 * - The answer is checked before anything is stored: the certificate must chain to the pinned CA
 *   and name this node, so a confused hub cannot leave a device with credentials that will never
 *   authenticate.
 * - Re-joining the same hub keeps the cache and outbox (the node resumes from its watermark);
 *   joining a different hub (another CA) wipes them, since revisions of one hub mean nothing to
 *   another.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import type { JoinToken } from "../../lib/join-token.js";
import { type Logger, silentLogger } from "../../lib/logger.js";
import { caHash, certIdentity, createCSR } from "../../lib/pki.js";
import { NODE_CN_PREFIX, NODES_GROUP } from "../../transport/broker-auth.js";
import { type AgentConfig, type AgentPaths, agentPaths, saveAgentState } from "../config.js";
import type { NodeFacts } from "../node-facts.js";
import { wellKnownLabels } from "../node-status.js";
import { fetchPinnedCA, JoinError, requestJoin } from "./hub-client.js";
import type { Taint } from "./options.js";

export interface JoinOptions {
  hubUrl: URL;
  token: JoinToken;
  nodeName: string;
  /** default: the local address of the connection to the hub */
  nodeIP?: string;
  dataDir: string;
  labels: Record<string, string>;
  taints: Taint[];
  useWebSocket: boolean;
  facts: NodeFacts;
  logger?: Logger;
  now?: () => Date;
}

export async function joinHub(o: JoinOptions): Promise<AgentConfig> {
  const log = (o.logger ?? silentLogger()).child({ component: "join", node: o.nodeName });
  const hub = o.hubUrl.origin;
  const pin = `sha256:${o.token.caHash}`;
  const { caPem, localAddress } = await fetchPinnedCA(o.hubUrl, pin);
  log.info({ hub, ca: pin }, "hub CA matches the join token");
  const nodeIP = o.nodeIP ?? localAddress;
  if (!nodeIP) throw new JoinError(`cannot tell this device's address towards ${hub}: pass --node-ip`);
  const cn = `${NODE_CN_PREFIX}${o.nodeName}`;
  const { csrPem, keyPem } = await createCSR(cn, [NODES_GROUP]);
  const answer = await requestJoin(o.hubUrl, caPem, `${o.token.id}.${o.token.secret}`, {
    nodeName: o.nodeName,
    nodeIP,
    labels: { ...wellKnownLabels(o.facts, o.nodeName), ...o.labels },
    taints: o.taints,
    csr: csrPem,
    facts: o.facts,
  });
  checkAnswer(hub, o, caPem, cn, answer.ca, answer.clientCert, answer.nodeName);
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
  saveAgentState(paths, config, { ca: caPem, cert: answer.clientCert, key: keyPem });
  log.info(
    { hub, podCIDR: answer.podCIDR, mqtt: o.useWebSocket ? answer.mqtt.wsUrl : answer.mqtt.url },
    "joined",
  );
  return config;
}

function checkAnswer(
  hub: string,
  o: JoinOptions,
  caPem: string,
  cn: string,
  answerCa: string,
  certPem: string,
  nodeName: string,
): void {
  const wrong = (what: string) =>
    new JoinError(
      `the hub at ${hub} answered the join with ${what}: nothing was stored; report this to the hub's operator`,
    );
  if (nodeName !== o.nodeName) throw wrong(`node name "${nodeName}" instead of "${o.nodeName}"`);
  if (caHash(answerCa) !== `sha256:${o.token.caHash}`) throw wrong("a CA other than the one the token pins");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw wrong("a client certificate that cannot be parsed");
  }
  if (!cert.verify(new X509Certificate(caPem).publicKey))
    throw wrong("a client certificate not signed by its CA");
  const id = certIdentity(certPem);
  if (id.commonName !== cn || !id.organizations.includes(NODES_GROUP)) {
    throw wrong(`a client certificate for "${id.commonName}" instead of "${cn}"`);
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
