/**
 * The agent's data dir: what `edge-agent join` stores and `edge-agent run` starts from.
 *
 *   <data-dir>/agent.json     hub URL, node name/IP, MQTT URLs, pod CIDR, cluster settings
 *   <data-dir>/tls/ca.crt     cluster CA (pinned by the join token's hash)
 *   <data-dir>/tls/node.password  the node's MQTT password (0600; the default credential)
 *   <data-dir>/tls/node.crt   or: node client certificate (CN system:node:<name>, O system:nodes)
 *   <data-dir>/tls/node.key   and its private key (0600, generated on the device, never sent)
 *   <data-dir>/cache.db       desired-state cache (SQLite)      <data-dir>/outbox.db  status outbox
 *   <data-dir>/status.json    the running agent's connection state for `edge-agent status`
 *
 * Design notes
 * - agent.json is written last and atomically: its presence means the join completed, so a join
 *   interrupted half-way is simply repeated.
 * - agent.json names the credential kind ("password" or "certificate"; absent = certificate, as
 *   data dirs written before passwords existed), so leftovers of the other kind never count. A
 *   re-join that changes the kind removes the old files after agent.json is committed.
 * - Loading validates every field and says how to repair (re-join), because a systemd unit
 *   restarting `edge-agent run` forever on a corrupt file helps nobody.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isObject } from "../api/object.js";
import { writeFileAtomic } from "../lib/fsutil.js";

export const DEFAULT_DATA_DIR = "/var/lib/edgekube/agent";

export interface AgentConfig {
  version: 1;
  hubUrl: string;
  nodeName: string;
  nodeIP: string;
  mqtt: { url: string; wsUrl: string };
  /** connect over wss:// (`--mqtt-websocket`) instead of mqtts:// */
  useWebSocket: boolean;
  podCIDR?: string;
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  joinedAt: string;
  /** how the node authenticates to the broker (absent in data dirs from before passwords) */
  credential?: CredentialKind;
}

export type CredentialKind = "password" | "certificate";

export interface AgentPaths {
  dataDir: string;
  config: string;
  ca: string;
  cert: string;
  key: string;
  password: string;
  cache: string;
  outbox: string;
  status: string;
}

export function agentPaths(dataDir: string): AgentPaths {
  return {
    dataDir,
    config: join(dataDir, "agent.json"),
    ca: join(dataDir, "tls", "ca.crt"),
    cert: join(dataDir, "tls", "node.crt"),
    key: join(dataDir, "tls", "node.key"),
    password: join(dataDir, "tls", "node.password"),
    cache: join(dataDir, "cache.db"),
    outbox: join(dataDir, "outbox.db"),
    status: join(dataDir, "status.json"),
  };
}

export class AgentConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentConfigError";
  }
}

/** The cluster CA plus the node's credential: a password, or a certificate and its key. */
export type Credentials = { ca: string } & (
  | { password: string; cert?: undefined; key?: undefined }
  | { cert: string; key: string; password?: undefined }
);

/**
 * Writes credentials first, then agent.json (the commit point of a join), then removes the
 * other kind's files (see the design notes). Returns the config as written: `credential`
 * names the kind of `creds`.
 */
export function saveAgentState(paths: AgentPaths, config: AgentConfig, creds: Credentials): AgentConfig {
  writeFileAtomic(paths.ca, creds.ca);
  let kind: CredentialKind;
  if (creds.password !== undefined) {
    writeFileAtomic(paths.password, `${creds.password}\n`, 0o600);
    kind = "password";
  } else {
    writeFileAtomic(paths.key, creds.key, 0o600);
    writeFileAtomic(paths.cert, creds.cert);
    kind = "certificate";
  }
  const written: AgentConfig = { ...config, credential: kind };
  writeFileAtomic(paths.config, `${JSON.stringify(written, null, 2)}\n`);
  const stale = kind === "password" ? [paths.cert, paths.key] : [paths.password];
  for (const f of stale) rmSync(f, { force: true });
  return written;
}

export function loadAgentConfig(paths: AgentPaths): AgentConfig {
  const rejoin = `join the node again with "edge-agent join https://HUB:6443 --token T --data-dir ${paths.dataDir}"`;
  let text: string;
  try {
    text = readFileSync(paths.config, "utf8");
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new AgentConfigError(
      missing
        ? `${paths.config} does not exist: this node has not joined a hub yet; ${rejoin}`
        : `cannot read ${paths.config} (${(err as Error).message}): check the data dir's permissions`,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`${paths.config} is not valid JSON: ${rejoin}`, { cause: err });
  }
  const bad = (field: string) =>
    new AgentConfigError(`${paths.config}: field "${field}" is missing or invalid; ${rejoin}`);
  if (!isObject(raw) || raw.version !== 1) throw bad("version");
  const str = (field: string): string => {
    const v = raw[field];
    if (typeof v !== "string" || v === "") throw bad(field);
    return v;
  };
  const mqtt = raw.mqtt;
  if (!isObject(mqtt) || typeof mqtt.url !== "string" || typeof mqtt.wsUrl !== "string") throw bad("mqtt");
  const cfg: AgentConfig = {
    version: 1,
    hubUrl: str("hubUrl"),
    nodeName: str("nodeName"),
    nodeIP: str("nodeIP"),
    mqtt: { url: mqtt.url, wsUrl: mqtt.wsUrl },
    useWebSocket: raw.useWebSocket === true,
    clusterCIDR: str("clusterCIDR"),
    serviceCIDR: str("serviceCIDR"),
    clusterDNS: str("clusterDNS"),
    clusterDomain: str("clusterDomain"),
    joinedAt: str("joinedAt"),
  };
  if (typeof raw.podCIDR === "string" && raw.podCIDR !== "") cfg.podCIDR = raw.podCIDR;
  if (raw.credential !== undefined) {
    if (raw.credential !== "password" && raw.credential !== "certificate") throw bad("credential");
    cfg.credential = raw.credential;
  }
  return cfg;
}

/** The credentials agent.json's `credential` names (a certificate when it names none). */
export function loadCredentials(paths: AgentPaths, config: Pick<AgentConfig, "credential">): Credentials {
  const kind = config.credential ?? "certificate";
  const read = (file: string): string => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new AgentConfigError(
        `cannot read ${file} (${(err as Error).message}): the node's credentials are missing; join the node again with "edge-agent join"`,
        { cause: err },
      );
    }
  };
  if (kind === "certificate") return { ca: read(paths.ca), cert: read(paths.cert), key: read(paths.key) };
  const password = read(paths.password).trim();
  if (password === "") {
    throw new AgentConfigError(
      `${paths.password} is empty: the node's password is lost; join the node again with "edge-agent join"`,
    );
  }
  return { ca: read(paths.ca), password };
}
