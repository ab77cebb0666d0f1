/**
 * `edge-hub …` (also `edgekube hub …`): argv → validated HubConfig → start.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { wellKnownServiceIPs } from "../hub/apiserver/admission/service-allocator.js";
import { parseAddressPool } from "../hub/controllers/loadbalancer/index.js";
import { type PresetJoinToken, parsePresetTokenFile } from "../hub/edge/preset-token.js";
import { Hub } from "../hub/hub.js";
import type { AddressPool } from "../lb/index.js";
import { parseFlags, parsePort, UsageError } from "../lib/args.js";
import { HeapReclaimer, nodeHeapProbe } from "../lib/heap-reclaimer.js";
import { tuneAfterStart } from "../lib/heap-tuning.js";
import { createLogger } from "../lib/logger.js";
import { loopUtilisationProbe } from "../lib/loop-utilisation.js";
import { AUTO_SEMI_SPACE_MIB, parseSemiSpace, YoungGenerationCap } from "../lib/young-generation-cap.js";
import { createCredentialsInChild, initCredentials } from "./hub-credentials.js";

const DEFAULT_DATA_DIR = "/var/lib/edgekube/hub";
const DEFAULT_SERVICE_CIDR = "10.43.0.0/16";

const HELP = `Usage: edge-hub <command> [flags]

Commands:
  server       run the hub (API server on SQLite, controllers, MQTT broker)
  kubeconfig   print the admin kubeconfig
  token        create|list|delete join tokens for edge agents ("edge-hub token --help")

server flags:
  --data-dir DIR         state, credentials and admin.kubeconfig (default ${DEFAULT_DATA_DIR})
  --bind-address ADDR    address to listen on (default 0.0.0.0)
  --https-port PORT      API server port (default 6443; also MQTT over WebSocket at /mqtt)
  --mqtt-port PORT       MQTT over TLS for edge agents (default 8883)
  --mqtt-bind-address A  address the MQTT listener binds (default: --bind-address)
  --advertise-address A  address written into admin.kubeconfig (default 127.0.0.1)
  --tls-san NAME|IP      extra name or address for the serving certificate (repeatable)
  --service-cidr CIDR    service addresses (default 10.43.0.0/16)
  --cluster-cidr CIDR    pod addresses (default 10.42.0.0/16)
  --lb-pool NAME=RANGE[,RANGE]  LoadBalancer address pool (CIDR or FIRST-LAST; repeatable);
                         without one, LoadBalancer services get the addresses of their nodes
  --compaction-interval S  seconds between store compactions/checkpoints (default 30)
  --join-token-file FILE a preset join token "<id>.<secret>" (optional line "expiration: <RFC3339>")
                         made valid at every start; agents join with it plus --ca-hash (or
                         --insecure-trust-first-ca). Changing FILE replaces the token, emptying
                         it revokes it
  --anonymous-auth=BOOL  requests without credentials act as system:anonymous, allowed only what
                         RBAC grants system:unauthenticated (health and version); false = 401
                         (default true, as kube-apiserver)
  --max-semi-space MIB   largest V8 young-generation semi-space once the hub serves: auto,
                         1, 2, 4, 8 or 16 MiB, or 0 for V8's own (16 on node 20). auto is
                         ${AUTO_SEMI_SPACE_MIB} MiB, lifted while the hub stays busy for 3 s (a pod wave, an API
                         load), so an idle fleet's hub keeps ≤ 8 MB of young generation, not
                         32, without slowing long bursts; a fixed cap holds under load too (more
                         frequent scavenges: at 4 the scheduler is a quarter slower)
                         (default auto; ignored when EDGEKUBE_V8_FLAGS is set)
  --log-level LEVEL      trace|debug|info|warn|error (default info)
`;

export async function hubMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "server":
        return await server(rest);
      case "kubeconfig":
        return kubeconfig(rest);
      case "init-credentials":
        return await initCredentialsCommand(rest);
      case "token":
        return await (await import("./hub-token.js")).tokenMain(
          rest,
          (text) => process.stdout.write(text),
          DEFAULT_DATA_DIR,
        );
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`edge-hub: unknown command "${cmd}"\n\n${HELP}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    process.stderr.write(`edge-hub: ${(e as Error).message}\n`);
    return 1;
  }
}

async function server(argv: string[]): Promise<number> {
  const { values } = parseFlags(
    // a bare boolean flag, as upstream's: --anonymous-auth means --anonymous-auth=true
    argv.map((a) => (a === "--anonymous-auth" ? "--anonymous-auth=true" : a)),
    {
      "data-dir": { type: "string" },
      "bind-address": { type: "string" },
      "https-port": { type: "string" },
      "mqtt-port": { type: "string" },
      "mqtt-bind-address": { type: "string" },
      "advertise-address": { type: "string" },
      "tls-san": { type: "string", multiple: true },
      "service-cidr": { type: "string" },
      "cluster-cidr": { type: "string" },
      "lb-pool": { type: "string", multiple: true },
      "log-level": { type: "string" },
      "compaction-interval": { type: "string" },
      "join-token-file": { type: "string" },
      "anonymous-auth": { type: "string" },
      "max-semi-space": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    "edge-hub server",
  );
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let loadBalancerPools: AddressPool[];
  try {
    loadBalancerPools = (values["lb-pool"] ?? []).map(parseAddressPool);
  } catch (e) {
    throw new UsageError(`edge-hub server: --lb-pool: ${(e as Error).message}`);
  }
  const presetFile = values["join-token-file"];
  const presetJoinToken = presetFile === undefined ? undefined : readPresetToken(resolve(presetFile));
  const anonymousAuth = parseBool(values["anonymous-auth"], "--anonymous-auth", true);
  const semiSpace = parseSemiSpace(values["max-semi-space"], "--max-semi-space");
  const logger = createLogger({ level: values["log-level"] ?? "info" });
  const dataDir = resolve(values["data-dir"] ?? DEFAULT_DATA_DIR);
  // first start: certificates are made in a child, so the X.509 library never loads in the hub
  const serviceCIDR = values["service-cidr"] ?? DEFAULT_SERVICE_CIDR;
  await createCredentialsInChild(
    dataDir,
    values["tls-san"] ?? [],
    wellKnownServiceIPs(serviceCIDR).kubernetes,
    logger,
  );
  const hub = new Hub({
    dataDir,
    bindAddress: values["bind-address"] ?? "0.0.0.0",
    httpsPort: parsePort(values["https-port"], "--https-port", 6443),
    mqttPort: parsePort(values["mqtt-port"], "--mqtt-port", 8883),
    ...(values["mqtt-bind-address"] ? { mqttBindAddress: values["mqtt-bind-address"] } : {}),
    ...(values["advertise-address"] ? { advertiseAddress: values["advertise-address"] } : {}),
    tlsSans: values["tls-san"] ?? [],
    serviceCIDR,
    clusterCIDR: values["cluster-cidr"] ?? "10.42.0.0/16",
    nodePortRange: [30000, 32767],
    ...(loadBalancerPools.length > 0 ? { loadBalancerPools } : {}),
    ...(presetJoinToken !== undefined ? { presetJoinToken } : {}),
    anonymousAuth,
    compactionIntervalMs: seconds(values["compaction-interval"], "--compaction-interval", 30) * 1000,
    logger,
  });
  try {
    await hub.start();
  } catch (e) {
    // release what did start (store, timers), so the process ends with the error
    await hub.stop().catch(() => undefined);
    throw e;
  }
  // start-up is over: young generation growth and TurboFan back on (src/lib/heap-tuning.ts)
  tuneAfterStart(process.env);
  // …with the young generation held at --max-semi-space, lifted under load unless fixed
  // (src/lib/young-generation-cap.ts);
  // flags chosen through EDGEKUBE_V8_FLAGS are left as they are
  const youngCap =
    process.env.EDGEKUBE_V8_FLAGS === undefined
      ? new YoungGenerationCap({
          maxSemiSpaceMiB: semiSpace.maxSemiSpaceMiB,
          ...(semiSpace.liftUnderLoad ? { liftUnderLoad: { loopUtilisation: loopUtilisationProbe() } } : {}),
        })
      : undefined;
  youngCap?.start();
  // V8 heap given back once a burst (joins, connect storms) is over; EDGEKUBE_HEAP_RECLAIM=off
  // turns it off for measurements (src/lib/heap-reclaimer.ts)
  const reclaimer =
    process.env.EDGEKUBE_HEAP_RECLAIM === "off"
      ? undefined
      : new HeapReclaimer({
          probe: nodeHeapProbe(),
          logger: logger.child({ component: "heap-reclaimer" }),
          ...(youngCap ? { youngLimit: () => youngCap.limitBytes } : {}),
        });
  reclaimer?.start();
  process.stdout.write(`edge-hub: ready at ${hub.url}; kubeconfig: ${hub.kubeconfigPath}\n`);
  process.stdout.write(`edge-hub: CA ${hub.caHash} (agents with a short token: --ca-hash ${hub.caHash})\n`);
  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      logger.info({ signal: sig }, "stopping");
      reclaimer?.stop();
      youngCap?.stop();
      hub.stop().then(done, done);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}

/** internal: `server` runs this in a child process on a first start (src/cmd/hub-credentials.ts) */
async function initCredentialsCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      "data-dir": { type: "string" },
      "tls-san": { type: "string", multiple: true },
      "service-ip": { type: "string" },
    },
    "edge-hub init-credentials",
  );
  const serviceIP = values["service-ip"] ?? wellKnownServiceIPs(DEFAULT_SERVICE_CIDR).kubernetes;
  return initCredentials(resolve(values["data-dir"] ?? DEFAULT_DATA_DIR), values["tls-san"] ?? [], serviceIP);
}

/** Reads and checks --join-token-file before anything starts, so a bad file stops the hub. */
function readPresetToken(file: string): PresetJoinToken | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(
      `--join-token-file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): create it with one token "<id>.<secret>", or drop the flag`,
    );
  }
  return parsePresetTokenFile(text, file);
}

function parseBool(v: string | undefined, flag: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new UsageError(`${flag} must be true or false (e.g. ${flag}=false), got "${v}"`);
}

function seconds(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, got "${v}"`);
  return n;
}

function kubeconfig(argv: string[]): number {
  const { values } = parseFlags(argv, { "data-dir": { type: "string" } }, "edge-hub kubeconfig");
  const file = join(resolve(values["data-dir"] ?? DEFAULT_DATA_DIR), "admin.kubeconfig");
  if (!existsSync(file)) {
    throw new Error(
      `${file} does not exist: start the hub once with "edge-hub server --data-dir ${values["data-dir"] ?? DEFAULT_DATA_DIR}"`,
    );
  }
  process.stdout.write(readFileSync(file, "utf8"));
  return 0;
}
