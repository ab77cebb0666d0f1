/**
 * `edge-agent status`: connection state from status.json plus watermark, cached object counts and
 * outbox size read straight from the SQLite files (read-only, so it works with the agent stopped
 * and never blocks a running one: WAL lets readers and the writer proceed side by side).
 */
import { existsSync } from "node:fs";
import { openDatabase } from "../lib/sqlite.js";
import { DesiredCache } from "./cache/desired-cache.js";
import { type AgentConfig, type AgentPaths, loadAgentConfig } from "./config.js";
import { type AgentStatus, agentRunning, readStatusFile } from "./status-file.js";

export interface StatusReport {
  dataDir: string;
  config: AgentConfig;
  running: boolean;
  status: AgentStatus | undefined;
  watermark: number;
  counts: Record<string, number>;
  outbox: number;
}

export function collectStatus(paths: AgentPaths, alive?: (pid: number) => boolean): StatusReport {
  const config = loadAgentConfig(paths);
  const status = readStatusFile(paths.status);
  let watermark = 0;
  let counts: Record<string, number> = {};
  if (existsSync(paths.cache)) {
    const cache = new DesiredCache(paths.cache, { readonly: true });
    try {
      watermark = cache.watermark();
      counts = cache.counts();
    } finally {
      cache.close();
    }
  }
  let outbox = 0;
  if (existsSync(paths.outbox)) {
    const db = openDatabase(paths.outbox, { readonly: true, fileMustExist: true });
    try {
      outbox = Number(db.prepare("SELECT count(*) FROM outbox").pluck().get() ?? 0);
    } finally {
      db.close();
    }
  }
  return {
    dataDir: paths.dataDir,
    config,
    running: agentRunning(status, alive),
    status,
    watermark,
    counts,
    outbox,
  };
}

export function formatStatus(r: StatusReport): string {
  const lines: string[] = [];
  const s = r.status;
  lines.push(`node:        ${r.config.nodeName} (${r.config.nodeIP})`);
  lines.push(`hub:         ${r.config.hubUrl}`);
  lines.push(`mqtt:        ${r.config.useWebSocket ? r.config.mqtt.wsUrl : r.config.mqtt.url}`);
  lines.push(
    `credential:  ${r.config.credential === "password" ? "per-node password (tls/node.password)" : "client certificate (tls/node.crt)"}`,
  );
  if (!r.running) {
    const last = s ? `; last seen ${s.updatedAt}` : "";
    lines.push(
      `agent:       agent not running${last} (start it with "edge-agent run --data-dir ${r.dataDir}")`,
    );
    lines.push("connection:  disconnected (agent not running)");
  } else if (s) {
    lines.push(`agent:       running (pid ${s.pid}, since ${s.startedAt})`);
    lines.push(`connection:  ${s.connected ? "connected" : "disconnected"} since ${s.since}`);
    if (!s.connected && s.retryInMs !== undefined && s.retryInMs >= 0) {
      lines.push(`retry in:    ${Math.ceil(s.retryInMs / 1000)} s`);
    }
  }
  if (s?.lastError) lines.push(`last error:  ${s.lastError}`);
  lines.push(`watermark:   ${r.watermark}`);
  const kinds = Object.entries(r.counts).sort(([a], [b]) => a.localeCompare(b));
  lines.push(
    `cached:      ${kinds.length === 0 ? "nothing yet" : kinds.map(([k, n]) => `${k}=${n}`).join(" ")}`,
  );
  lines.push(`outbox:      ${r.outbox} status update(s) waiting for the hub`);
  if (r.running && s?.sync) {
    const y = s.sync;
    lines.push(
      `resyncs:     ${y.resumed} resumed from the watermark, ${y.refetched} full snapshot(s) since start`,
    );
  }
  return `${lines.join("\n")}\n`;
}
