/**
 * `edge-agent …` (also `edgekube agent …`): argv → validated options → join / run / status.
 * Argv and the environment are read here and in the sibling edge-agent-*.ts files only; the
 * logic lives in src/edge-agent/. Once join and run have parsed their flags, edge-agent-run.ts
 * wires and runs the agent process.
 */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import Docker from "dockerode";
import {
  checkNodeIP,
  checkNodeName,
  DEFAULT_DATA_DIR,
  gatherNodeFacts,
  nodeNameFromHostname,
  parseHubUrl,
  parseLabels,
  parseTaints,
  resolveJoinCredential,
} from "../edge-agent/index.js";
import { parseFlags, UsageError } from "../lib/args.js";
import { createLogger } from "../lib/logger.js";
import { imageImportMain } from "./edge-agent-image.js";
import { common, resetMain, statusMain } from "./edge-agent-local.js";
import { runAgent, type WorkloadChoice } from "./edge-agent-run.js";

/** A pause image runs its own /pause; any other sandbox image runs "sleep" (see --sandbox-command). */
const DEFAULT_SANDBOX_IMAGE = "registry.k8s.io/pause:3.10";

const HELP = `Usage: edge-agent <command> [flags]

Commands:
  join HUB_URL --token T   join a hub (https://HUB:6443), store credentials, then keep running
  run                      run from what join stored (what the systemd unit starts)
  status                   print connection state, watermark, cached objects and outbox size
  image import FILE|DIR    load image tarballs into the local Docker daemon (airgap)
  reset                    remove what the agent created on this host (pods' containers, overlay
                           links, routes and rules, IPAM, service rules, the edgekube-dns link);
                           --delete-data also removes the data dir

join flags:
  --token T              join token from "edge-hub token create" (or env EDGEKUBE_TOKEN); a short
                         <id>.<secret> (a hub's --join-token-file) also needs one of:
  --ca-hash sha256:HEX   the hub's CA hash ("edge-hub token ca-hash" on the hub)
  --insecure-trust-first-ca  trust the CA the hub presents now and print its hash to verify
  --node-name N          node name (default: this host's name, lower-cased)
  --node-ip IP           node InternalIP (default: the address used to reach the hub)
  --labels k=v,...       extra node labels
  --taints k=v:Effect,.. node taints (NoSchedule, PreferNoSchedule, NoExecute)
  --mqtt-websocket       reach the hub's MQTT over wss://HUB:6443/mqtt instead of mqtts://HUB:8883
  --client-cert          authenticate to the hub's MQTT with a client certificate (mTLS) instead of
                         the per-node password the hub issues by default
join and run flags:
  --flannel-iface IF     underlay interface for the VXLAN overlay (default: the one carrying the node IP)
  --flannel-direct-routing  route pods to nodes on this node's own underlay segment without VXLAN
                         (flannel's DirectRouting); used between nodes that both set it. Leave it
                         off where the network drops packets from pod addresses (most clouds)
  --sandbox-image REF    image of pod sandbox containers (default ${DEFAULT_SANDBOX_IMAGE}; load it
                         into Docker or drop its tarball into DATA_DIR/images on air-gapped devices)
  --sandbox-command CMD  its command (default /pause for the default image, else "sleep 2147483647")
  --docker-socket PATH   Docker Engine socket (default: DOCKER_HOST, else /var/run/docker.sock)
  --no-pods              run only the link and cache (no Docker, no pod network, no services)
  --cluster-dns IP       cluster DNS address this node answers on and pods use (default: from the
                         hub at join, 10.43.0.10); put on the dummy interface edgekube-dns
  --no-services          no service proxy rules and no cluster DNS on this node
run flags:
  --node-ip IP           override the node IP stored at join (the overlay's underlay address)
reset flags:
  --delete-data          also delete the data dir (credentials, cache): the node must join again
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
        return statusMain(rest, HELP);
      case "reset":
        return await resetMain(rest, HELP, DEFAULT_SANDBOX_IMAGE);
      case "image":
        throw new UsageError(
          `edge-agent image: unknown command "${rest[0] ?? ""}": use "edge-agent image import FILE.tar"`,
        );
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

const workloadFlags = {
  "flannel-iface": { type: "string" },
  "flannel-direct-routing": { type: "boolean" },
  "sandbox-image": { type: "string" },
  "sandbox-command": { type: "string" },
  "docker-socket": { type: "string" },
  "no-pods": { type: "boolean" },
  "cluster-dns": { type: "string" },
  "no-services": { type: "boolean" },
} as const;

function workloadChoice(values: {
  "flannel-iface"?: string | undefined;
  "flannel-direct-routing"?: boolean | undefined;
  "sandbox-image"?: string | undefined;
  "sandbox-command"?: string | undefined;
  "docker-socket"?: string | undefined;
  "no-pods"?: boolean | undefined;
  "cluster-dns"?: string | undefined;
  "no-services"?: boolean | undefined;
}): WorkloadChoice {
  const dns = values["cluster-dns"];
  if (dns !== undefined) {
    try {
      checkNodeIP(dns);
    } catch {
      throw new UsageError(`--cluster-dns: "${dns}" is not an IPv4 address (e.g. 10.43.0.10)`);
    }
  }
  const image = values["sandbox-image"] ?? DEFAULT_SANDBOX_IMAGE;
  const cmd = values["sandbox-command"] ?? (image === DEFAULT_SANDBOX_IMAGE ? "/pause" : "sleep 2147483647");
  return {
    ...(values["flannel-iface"] ? { flannelIface: values["flannel-iface"] } : {}),
    ...(values["flannel-direct-routing"] === true ? { flannelDirectRouting: true } : {}),
    sandboxImage: image,
    sandboxCommand: cmd.split(/\s+/).filter((x) => x !== ""),
    ...(values["docker-socket"] ? { dockerSocket: values["docker-socket"] } : {}),
    pods: values["no-pods"] !== true,
    services: values["no-services"] !== true,
    ...(dns !== undefined ? { clusterDNS: dns } : {}),
  };
}

async function join(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...common,
      token: { type: "string" },
      "ca-hash": { type: "string" },
      "insecure-trust-first-ca": { type: "boolean" },
      "node-name": { type: "string" },
      "node-ip": { type: "string" },
      labels: { type: "string" },
      taints: { type: "string" },
      "mqtt-websocket": { type: "boolean" },
      "client-cert": { type: "boolean" },
      ...workloadFlags,
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
  const token = wrap(() =>
    resolveJoinCredential(tokenText, {
      ...(values["ca-hash"] !== undefined ? { caHash: values["ca-hash"] } : {}),
      trustFirstCA: values["insecure-trust-first-ca"] === true,
    }),
  );
  const nodeName = wrap(() => checkNodeName(values["node-name"] ?? nodeNameFromHostname(hostname())));
  const nodeIP =
    values["node-ip"] === undefined ? undefined : wrap(() => checkNodeIP(values["node-ip"] ?? ""));
  const labels = wrap(() => parseLabels(values.labels));
  const taints = wrap(() => parseTaints(values.taints));
  const dataDir = resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);
  const logger = createLogger({ level: values["log-level"] ?? "info" });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sock = values["docker-socket"];
  const facts = await gatherNodeFacts(dataDir, sock ? { docker: new Docker({ socketPath: sock }) } : {});
  // loaded only to join (and @peculiar/x509 only for --client-cert): neither stays in `edge-agent run`
  const { joinHub } = await import("../edge-agent/join/join.js");
  await joinHub({
    hubUrl,
    token,
    trustFirstCA: values["insecure-trust-first-ca"] === true,
    onTrustFirstCA: (hash) =>
      process.stderr.write(
        `edge-agent: WARNING: --insecure-trust-first-ca: trusting the CA ${hubUrl.origin} presented, ${hash}, without a pin; ` +
          `verify it equals the output of "edge-hub token ca-hash" on the hub (if not, run "edge-agent reset --delete-data" and join again with --ca-hash)\n`,
      ),
    nodeName,
    ...(nodeIP ? { nodeIP } : {}),
    dataDir,
    labels,
    taints,
    useWebSocket: values["mqtt-websocket"] === true,
    clientCert: values["client-cert"] === true,
    facts,
    logger,
  });
  process.stdout.write(`edge-agent: node "${nodeName}" joined ${hubUrl.origin}; state in ${dataDir}\n`);
  return runAgent(dataDir, logger, workloadChoice(values));
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...common, ...workloadFlags, "node-ip": { type: "string" } },
    "edge-agent run",
  );
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`edge-agent run: unexpected argument "${positionals[0]}"`);
  const logger = createLogger({ level: values["log-level"] ?? "info" });
  let nodeIP: string | undefined;
  try {
    nodeIP = values["node-ip"] === undefined ? undefined : checkNodeIP(values["node-ip"]);
  } catch (e) {
    throw new UsageError(`edge-agent run: ${(e as Error).message}`);
  }
  const choice = { ...workloadChoice(values), ...(nodeIP ? { nodeIP } : {}) };
  return runAgent(resolve(values["data-dir"] ?? DEFAULT_DATA_DIR), logger, choice);
}
