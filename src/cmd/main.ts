/**
 * The one program. `edgekube hub …` and `edgekube agent …`, also reachable as `edge-hub …`
 * and `edge-agent …` (argv[0] dispatch: the launcher passes the name it was invoked as).
 * Only src/cmd reads argv and the environment.
 *
 * Design notes
 * - The two roles are loaded on demand (dynamic import): an agent on a 1 GB device never pays
 *   for the API server, OpenAPI schemas, aedes, ajv or protobufjs, nor a hub for the agent's
 *   Docker client (measured: importing everything costs ≈55 MiB of RSS over a bare node).
 *   The dev bundle is split at these imports (scripts/build-dev.mjs); the release bundle
 *   (CommonJS) evaluates a lazily imported module only when it is first imported.
 */
import { basename } from "node:path";
import { buildCommit, EDGEKUBE_VERSION } from "../lib/version.js";

export { tuneHeap } from "../lib/heap-tuning.js";

async function hubMain(argv: string[]): Promise<number> {
  return (await import("./edge-hub.js")).hubMain(argv);
}

async function agentMain(argv: string[]): Promise<number> {
  return (await import("./edge-agent.js")).agentMain(argv);
}

export const USAGE = `Usage:
  edgekube hub <command> [flags]     (also: edge-hub <command>)
  edgekube agent <command> [flags]   (also: edge-agent <command>)
  edgekube --version

Hub commands:   server, kubeconfig, token create|list|delete
Agent commands: join, run, status, reset, image import
Run "edge-hub help" or "edge-agent help" for flags.`;

export function versionText(): string {
  return `edgekube ${EDGEKUBE_VERSION} (commit ${buildCommit()}, node ${process.version})`;
}

/** Resolves to the process exit code. */
export async function main(argv: string[], invokedAs: string): Promise<number> {
  const name = basename(invokedAs)
    .replace(/\.(m?js|cjs)$/, "")
    .replace(/-linux-(amd64|arm64)$/, "");
  if (name === "edge-hub") return hubMain(argv);
  if (name === "edge-agent") return agentMain(argv);
  const [sub, ...rest] = argv;
  switch (sub) {
    case "hub":
      return hubMain(rest);
    case "agent":
      return agentMain(rest);
    case "--version":
    case "version":
      process.stdout.write(`${versionText()}\n`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    default:
      process.stderr.write(`edgekube: unknown command "${sub}"\n\n${USAGE}\n`);
      return 2;
  }
}
