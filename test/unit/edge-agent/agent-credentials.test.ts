/**
 * The agent's stored credentials (config.ts): which kind agent.json names, what a re-join of the
 * other kind leaves behind, and the errors a damaged data dir gives.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AgentConfig,
  agentPaths,
  loadAgentConfig,
  loadCredentials,
  saveAgentState,
} from "../../../src/edge-agent/config.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "ek-creds-"));
  dirs.push(d);
  return d;
}

const CONFIG: AgentConfig = {
  version: 1,
  hubUrl: "https://198.51.100.1:6443",
  nodeName: "pi-1",
  nodeIP: "198.51.100.5",
  mqtt: { url: "mqtts://198.51.100.1:8883", wsUrl: "wss://198.51.100.1:6443/mqtt" },
  useWebSocket: false,
  clusterCIDR: "10.42.0.0/16",
  serviceCIDR: "10.43.0.0/16",
  clusterDNS: "10.43.0.10",
  clusterDomain: "cluster.local",
  joinedAt: "2026-11-26T00:00:00.000Z",
};

describe("agent credentials", () => {
  it("a password join stores the password (0600) and names it; a certificate join replaces it", () => {
    const paths = agentPaths(dataDir());
    saveAgentState(paths, CONFIG, { ca: "CA", password: "s3cret" });
    const cfg = loadAgentConfig(paths);
    expect(cfg.credential).toBe("password");
    expect(loadCredentials(paths, cfg)).toEqual({ ca: "CA", password: "s3cret" });
    expect(statSync(paths.password).mode & 0o777).toBe(0o600);

    saveAgentState(paths, CONFIG, { ca: "CA", cert: "CERT", key: "KEY" });
    const cfg2 = loadAgentConfig(paths);
    expect(cfg2.credential).toBe("certificate");
    expect(loadCredentials(paths, cfg2)).toEqual({ ca: "CA", cert: "CERT", key: "KEY" });
    expect(existsSync(paths.password)).toBe(false);

    saveAgentState(paths, CONFIG, { ca: "CA", password: "again" });
    expect(existsSync(paths.cert) || existsSync(paths.key)).toBe(false);
  });

  it("a data dir from before passwords (no credential field) means a certificate", () => {
    const paths = agentPaths(dataDir());
    saveAgentState(paths, CONFIG, { ca: "CA", cert: "CERT", key: "KEY" });
    const { credential: _, ...old } = loadAgentConfig(paths);
    writeFileSync(paths.config, JSON.stringify(old));
    const cfg = loadAgentConfig(paths);
    expect(cfg.credential).toBeUndefined();
    expect(loadCredentials(paths, cfg)).toEqual({ ca: "CA", cert: "CERT", key: "KEY" });
  });

  it("says to join again when the password is missing or empty, or the kind is unknown", () => {
    const paths = agentPaths(dataDir());
    saveAgentState(paths, CONFIG, { ca: "CA", password: "s3cret" });
    const cfg = loadAgentConfig(paths);
    writeFileSync(paths.password, "\n");
    expect(() => loadCredentials(paths, cfg)).toThrow(/node\.password is empty: .*join the node again/);
    rmSync(paths.password);
    expect(() => loadCredentials(paths, cfg)).toThrow(/cannot read .*node\.password.*join the node again/);
    writeFileSync(paths.config, JSON.stringify({ ...CONFIG, credential: "token" }));
    expect(() => loadAgentConfig(paths)).toThrow(
      /field "credential" is missing or invalid; join the node again/,
    );
  });
});
