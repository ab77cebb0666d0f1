/**
 * `edge-agent reset` and `edge-agent status`: commands that act on this node alone (its host
 * state and data dir), with no hub and no running agent.
 */
import { resolve } from "node:path";
import { agentPaths, collectStatus, DEFAULT_DATA_DIR, formatStatus } from "../edge-agent/index.js";
import { resetAgent } from "../edge-agent/reset.js";
import { DockerRuntime } from "../edge-agent/runtime/index.js";
import { parseFlags, UsageError } from "../lib/args.js";
import { createLogger } from "../lib/logger.js";

/** the flags every edge-agent command takes */
export const common = {
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `edge-agent reset`: removes what the agent made on this host (pods, links, rules, data on request). */
export async function resetMain(argv: string[], help: string, sandboxImage: string): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...common, "delete-data": { type: "boolean" }, "no-docker": { type: "boolean" } },
    "edge-agent reset",
  );
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`edge-agent reset: unexpected argument "${positionals[0]}"`);
  const dataDir = resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);
  const logger = createLogger({ level: values["log-level"] ?? "warn" });
  let runtime: DockerRuntime | undefined;
  if (values["no-docker"] !== true) {
    runtime = new DockerRuntime({ sandboxImage, logger });
    try {
      await runtime.docker.ping();
    } catch {
      throw new Error(
        "cannot reach the Docker daemon (DOCKER_HOST or /var/run/docker.sock) to remove the pods' containers: start it, or pass --no-docker to skip them",
      );
    }
  }
  const r = await resetAgent({ dataDir, deleteData: values["delete-data"] === true, runtime, logger });
  process.stdout.write(
    `edge-agent: reset: removed ${r.removedPods.length} pod(s), links [${r.removedLinks.join(", ")}]` +
      (r.serviceRulesRemoved ? ", service rules" : "") +
      (r.dnsAddressRemoved ? ", cluster DNS address" : "") +
      (r.deletedDataDir ? `, deleted ${dataDir}` : "") +
      "\n",
  );
  if (r.stuckMounts.length > 0) {
    process.stderr.write(
      `edge-agent: reset: could not unmount ${r.stuckMounts.join(", ")}: stop what uses them, then run reset again\n`,
    );
    return 1;
  }
  return 0;
}

/** `edge-agent status`: connection, watermark and cached objects, from the data dir alone. */
export function statusMain(argv: string[], help: string): number {
  const { values } = parseFlags(argv, common, "edge-agent status");
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const report = collectStatus(agentPaths(resolve(values["data-dir"] ?? DEFAULT_DATA_DIR)));
  process.stdout.write(formatStatus(report));
  return 0;
}
