/**
 * What a dev cluster looked like at one moment, for a failed test: the hub's and each agent's
 * log tail, each node's rules, routes, addresses and containers, and what each agent holds in
 * its SQLite files (cached Services, EndpointSlices and Pods; pod statuses still waiting in the
 * outbox for an absent hub).
 *
 * Design notes
 * - A failing multi-node test used to lose all of this with `down()` (the state directory is
 *   deleted), which left flakes seen once under load with no evidence. The test fixture calls
 *   collect() from vitest's onTestFailed, prints it and keeps it with the full logs.
 * - Every probe is best-effort and bounded: a dead dockerd or a missing file becomes a line in
 *   the report, never an exception hiding the test's own failure.
 * - The agent's files are opened read-only while it may still run (WAL allows a reader beside
 *   the writer), so collecting changes nothing the test looks at.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { isOurs, tail } from "./procs.js";
import type { ClusterState, NodeState } from "./state.js";

export interface DiagnosticsOptions {
  /** log lines per process (default 80) */
  lines?: number;
}

function run(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, {
      encoding: "utf8",
      timeout: 15_000,
      stdio: ["ignore", "pipe", "pipe"],
    }).trimEnd();
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return `(${file} ${args.join(" ")} failed: ${(e.stderr || e.message).trim()})`;
  }
}

const inNode = (n: NodeState, cmd: string[]) => run("nsenter", [`--net=/run/netns/${n.netns}`, ...cmd]);

interface CachedRow {
  key: string;
  revision: number;
  json: string;
}

/** One line per cached Service / EndpointSlice endpoint / Pod: what the proxy and DNS read. */
function cacheSummary(file: string): string {
  if (!existsSync(file)) return `(no ${file})`;
  let db: Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db
      .prepare(
        "SELECT key, revision, json FROM objects WHERE resource IN ('core/services', 'discovery.k8s.io/endpointslices', 'core/pods') ORDER BY key",
      )
      .all() as CachedRow[];
    const out: string[] = [];
    for (const r of rows) {
      const o = JSON.parse(r.json) as {
        spec?: { clusterIP?: string; type?: string; healthCheckNodePort?: number };
        status?: {
          phase?: string;
          podIP?: string;
          conditions?: { type: string; status: string }[];
          loadBalancer?: { ingress?: { ip?: string }[] };
        };
        endpoints?: { addresses: string[]; nodeName?: string; conditions?: { ready?: boolean } }[];
      };
      if (r.key.startsWith("discovery.k8s.io/")) {
        const eps = (o.endpoints ?? [])
          .map(
            (e) =>
              `${e.addresses.join("|")}@${e.nodeName ?? "?"}${e.conditions?.ready === false ? "(unready)" : ""}`,
          )
          .join(" ");
        out.push(`${r.key}@${r.revision}: ${eps || "(no endpoints)"}`);
      } else if (r.key.startsWith("core/pods/")) {
        const ready = o.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "?";
        out.push(
          `${r.key}@${r.revision}: ${o.status?.phase ?? "?"} ${o.status?.podIP ?? "-"} ready=${ready}`,
        );
      } else {
        const ing = (o.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(",");
        out.push(`${r.key}@${r.revision}: ${o.spec?.type ?? "?"} ${o.spec?.clusterIP ?? "-"} ingress=${ing}`);
      }
    }
    return out.join("\n") || "(empty)";
  } catch (err) {
    return `(reading ${file} failed: ${(err as Error).message})`;
  } finally {
    db?.close();
  }
}

/** Pod statuses the agent computed but could not deliver yet (the hub is away). */
function outboxSummary(file: string): string {
  if (!existsSync(file)) return `(no ${file})`;
  let db: Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.prepare("SELECT seq, key, status FROM outbox ORDER BY seq").all() as {
      seq: number;
      key: string;
      status: string;
    }[];
    return rows.map((r) => `#${r.seq} ${r.key}: ${r.status.slice(0, 400)}`).join("\n") || "(empty)";
  } catch (err) {
    return `(reading ${file} failed: ${(err as Error).message})`;
  } finally {
    db?.close();
  }
}

function dockerPs(n: NodeState): string {
  return run("docker", [
    "-H",
    `unix://${n.dockerSock}`,
    "ps",
    "-a",
    "--format",
    '{{.ID}} {{.Status}} {{.Label "io.kubernetes.pod.name"}} {{.Label "edgekube.io/role"}}',
  ]);
}

/** The report as text (sections headed `=== …`). */
export function collect(s: ClusterState, opts: DiagnosticsOptions = {}): string {
  const lines = opts.lines ?? 80;
  const parts: string[] = [];
  const section = (title: string, body: string) => parts.push(`=== ${title}\n${body}`);
  section(
    `hub (pid ${s.hub?.pid ?? "-"}, ${s.hub && isOurs(s.hub) ? "running" : "not running"}) log tail`,
    tail(join(s.root, "hub.log"), lines),
  );
  for (const n of s.nodes) {
    const agent = n.agent && isOurs(n.agent) ? `running, pid ${n.agent.pid}` : "not running";
    section(`${n.name} agent (${agent}) log tail`, tail(join(n.dir, "agent.log"), lines));
    section(
      `${n.name} cached Services, EndpointSlices, Pods`,
      cacheSummary(join(n.dir, "agent", "cache.db")),
    );
    section(
      `${n.name} outbox (statuses not yet delivered)`,
      outboxSummary(join(n.dir, "agent", "outbox.db")),
    );
    section(`${n.name} containers`, dockerPs(n));
    section(`${n.name} ip addr`, inNode(n, ["ip", "-brief", "addr"]));
    section(`${n.name} ip route`, inNode(n, ["ip", "route"]));
    section(`${n.name} nft list ruleset`, inNode(n, ["nft", "list", "ruleset"]));
  }
  return parts.join("\n\n");
}

/**
 * Writes the report and full copies of the hub's and agents' logs into `dir` (created);
 * returns the report.
 */
export function keep(s: ClusterState, dir: string, opts: DiagnosticsOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const report = collect(s, opts);
  writeFileSync(join(dir, "diagnostics.txt"), `${report}\n`);
  const copy = (from: string, to: string) => {
    if (existsSync(from)) copyFileSync(from, join(dir, to));
  };
  copy(join(s.root, "hub.log"), "hub.log");
  for (const n of s.nodes) {
    copy(join(n.dir, "agent.log"), `${n.name}-agent.log`);
    copy(join(n.dir, "dockerd.log"), `${n.name}-dockerd.log`);
  }
  return report;
}
