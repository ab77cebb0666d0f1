/**
 * `edge-agent …` (also `edgekube agent …`): argv → validated options → join / run / status.
 * Only this file reads argv and the environment; the logic lives in src/edge-agent/.
 */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import {
  agentPaths,
  checkNodeIP,
  checkNodeName,
  collectStatus,
  DEFAULT_DATA_DIR,
  EdgeAgent,
  formatStatus,
  gatherNodeFacts,
  joinHub,
  loadAgentConfig,
  loadCredentials,
  nodeNameFromHostname,
  parseHubUrl,
  parseLabels,
  parseTaints,
} from "../edge-agent/index.js";
import { parseFlags, UsageError } from "../lib/args.js";
import { parseJoinToken } from "../lib/join-token.js";
import { createLogger, type Logger } from "../lib/logger.js";
import { EDGEKUBE_VERSION } from "../lib/version.js";
import { imageImportMain } from "./edge-agent-image.js";

const HELP = `Usage: edge-agent <command> [flags]

Commands:
  join HUB_URL --token T   join a hub (https://HUB:6443), store credentials, then keep running
  run                      run from what join stored (what the systemd unit starts)
  status                   print connection state, watermark, cached objects and outbox size
  image import FILE|DIR    load image tarballs into the local Docker daemon (airgap)

join flags:
  --token T              join token from "edge-hub token create" (or env EDGEKUBE_TOKEN)
  --node-name N          node name (default: this host's name, lower-cased)
  --node-ip IP           node InternalIP (default: the address used to reach the hub)
  --labels k=v,...       extra node labels
  --taints k=v:Effect,.. node taints (NoSchedule, PreferNoSchedule, NoExecute)
  --mqtt-websocket       reach the hub's MQTT over wss://HUB:6443/mqtt instead of mqtts://HUB:8883
common flags:
  --data-dir DIR         agent state (default ${DEFAULT_DATA_DIR})
  --log-level LEVEL      trace|debug|info|warn|error (default info)
`;

export async function agentMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "image" && rest[0] === "import") return imageImportMain(rest.slice(1));
  try {
    switch (cmd) {
      case "join":
        return await join(rest);
      case "run":
        return await run(rest);
      case "status":
        return status(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`edge-agent: unknown command "${cmd}"\n\n${HELP}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    process.stderr.write(`edge-agent: ${(e as Error).message}\n`);
    return 1;
  }
}

const common = {
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function join(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...common,
      token: { type: "string" },
      "node-name": { type: "string" },
      "node-ip": { type: "string" },
      labels: { type: "string" },
      taints: { type: "string" },
      "mqtt-websocket": { type: "boolean" },
    },
    "edge-agent join",
  );
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] === undefined) {
    throw new UsageError(
      `edge-agent join: give exactly one hub address, e.g. "edge-agent join https://HUB:6443 --token T" (got ${positionals.length})`,
    );
  }
  const tokenText = values.token ?? process.env.EDGEKUBE_TOKEN;
  if (!tokenText) {
    throw new UsageError(
      'edge-agent join: --token is required: create one on the hub with "edge-hub token create"',
    );
  }
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new UsageError(`edge-agent join: ${(e as Error).message}`);
    }
  };
  const hubUrl = wrap(() => parseHubUrl(positionals[0] ?? ""));
  const token = wrap(() => parseJoinToken(tokenText));
  const nodeName = wrap(() => checkNodeName(values["node-name"] ?? nodeNameFromHostname(hostname())));
  const nodeIP =
    values["node-ip"] === undefined ? undefined : wrap(() => checkNodeIP(values["node-ip"] ?? ""));
  const labels = wrap(() => parseLabels(values.labels));
  const taints = wrap(() => parseTaints(values.taints));
  const dataDir = resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);
  const logger = createLogger({ level: values["log-level"] ?? "info" });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const facts = await gatherNodeFacts(dataDir);
  await joinHub({
    hubUrl,
    token,
    nodeName,
    ...(nodeIP ? { nodeIP } : {}),
    dataDir,
    labels,
    taints,
    useWebSocket: values["mqtt-websocket"] === true,
    facts,
    logger,
  });
  process.stdout.write(`edge-agent: node "${nodeName}" joined ${hubUrl.origin}; state in ${dataDir}\n`);
  return runAgent(dataDir, logger);
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, common, "edge-agent run");
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`edge-agent run: unexpected argument "${positionals[0]}"`);
  const logger = createLogger({ level: values["log-level"] ?? "info" });
  return runAgent(resolve(values["data-dir"] ?? DEFAULT_DATA_DIR), logger);
}

async function runAgent(dataDir: string, logger: Logger): Promise<number> {
  const paths = agentPaths(dataDir);
  const config = loadAgentConfig(paths);
  const credentials = loadCredentials(paths);
  const facts = await gatherNodeFacts(dataDir);
  const agent = new EdgeAgent({
    dataDir,
    config,
    credentials,
    facts,
    agentVersion: EDGEKUBE_VERSION,
    logger,
  });
  await agent.start();
  process.stdout.write(`edge-agent: node "${config.nodeName}" running (hub ${config.hubUrl})\n`);
  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      logger.info({ signal: sig }, "stopping");
      agent.stop().then(done, done);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}

function status(argv: string[]): number {
  const { values } = parseFlags(argv, common, "edge-agent status");
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const report = collectStatus(agentPaths(resolve(values["data-dir"] ?? DEFAULT_DATA_DIR)));
  process.stdout.write(formatStatus(report));
  return 0;
}
