/**
 * The agent's half of the join and sync protocols, just enough to drive the hub in tests:
 * fetch and pin the CA, send a CSR with facts to /edgekube/v1/join, then run a real EdgeLink +
 * SyncAgent (real SQLite outbox) into an in-memory DesiredSink. Also: a join token minted
 * straight into the hub's store.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JoinRequest, JoinResponse, NodeFacts } from "../../src/api/join.js";
import { refs } from "../../src/client/client.js";
import { BOOTSTRAP_NAMESPACE, bootstrapTokenSecret } from "../../src/hub/edge/bootstrap-token.js";
import type { Hub } from "../../src/hub/hub.js";
import { formatJoinToken, generateTokenParts, parseJoinToken } from "../../src/lib/join-token.js";
import { caHash, createCSR } from "../../src/lib/pki.js";
import { EdgeLink } from "../../src/transport/client.js";
import { Outbox } from "../../src/transport/outbox.js";
import { SyncAgent } from "../../src/transport/sync-agent.js";
import { MemoryDesiredSink } from "./desired-memory.js";
import { uniqueNode } from "./transport-fixture.js";

export const FACTS: NodeFacts = {
  architecture: "x64",
  operatingSystem: "linux",
  kernelVersion: "6.1.0-test",
  osImage: "Debian GNU/Linux 12 (bookworm)",
  containerRuntimeVersion: "docker://24.0.7",
  cpu: 4,
  memoryBytes: 4 * 1024 ** 3,
  ephemeralStorageBytes: 32 * 1024 ** 3,
  pods: 110,
  machineID: "0123456789abcdef",
  bootID: "boot-1",
  hostname: "pi-host",
};

/** A valid join token for the hub, written into its store like `edge-hub token create`. */
export async function mintToken(
  hub: Hub,
  dataDir: string,
  opts: { expiration?: Date } = {},
): Promise<string> {
  const { id, secret } = generateTokenParts();
  await hub.client!.create(
    refs.secrets,
    BOOTSTRAP_NAMESPACE,
    bootstrapTokenSecret({ id, secret, ...(opts.expiration ? { expiration: opts.expiration } : {}) }),
  );
  return formatJoinToken(caHash(readFileSync(join(dataDir, "tls", "ca.crt"), "utf8")), id, secret);
}

interface Reply {
  status: number;
  body: string;
}

function httpsCall(
  url: string,
  opts: { method: string; ca?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method,
        ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
        headers: opts.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

export class JoinRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The agent's CA check: download without verification, compare with the token's pin. */
export async function fetchPinnedCA(hubUrl: string, token: string): Promise<string> {
  const want = parseJoinToken(token).caHash;
  const res = await httpsCall(`${hubUrl}/cacerts`, { method: "GET" });
  const got = caHash(res.body).replace(/^sha256:/, "");
  if (got !== want) {
    throw new Error(
      `the hub at ${hubUrl} presented CA sha256:${got}, but the join token expects sha256:${want}: the token is for another hub (or a man in the middle); get a token from this hub with "edge-hub token create"`,
    );
  }
  return res.body;
}

export interface Joined {
  response: JoinResponse;
  /** the key of the client certificate, when one was asked for */
  keyPem?: string;
}

/**
 * POSTs a join. By default the node asks for a password (what `edge-agent join` does);
 * `certificate` sends a CSR (`--client-cert`), optionally with another subject.
 */
export async function joinHub(
  hubUrl: string,
  token: string,
  req: Partial<JoinRequest> & { nodeName: string },
  opts: { credential?: "password" | "certificate"; csrSubject?: { cn: string; orgs: string[] } } = {},
): Promise<Joined> {
  const ca = await fetchPinnedCA(hubUrl, token);
  const t = parseJoinToken(token);
  const csr =
    opts.credential === "certificate" || opts.csrSubject
      ? await createCSR(
          opts.csrSubject?.cn ?? `system:node:${req.nodeName}`,
          opts.csrSubject?.orgs ?? ["system:nodes"],
        )
      : undefined;
  const body: JoinRequest = {
    nodeIP: "198.51.100.7",
    labels: {},
    taints: [],
    facts: FACTS,
    ...(csr ? { csr: csr.csrPem } : {}),
    ...req,
  };
  const res = await httpsCall(`${hubUrl}/edgekube/v1/join`, {
    method: "POST",
    ca,
    headers: { Authorization: `Bearer ${t.id}.${t.secret}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) {
    const msg = (JSON.parse(res.body) as { message?: string }).message ?? res.body;
    throw new JoinRefused(res.status, msg);
  }
  return { response: JSON.parse(res.body) as JoinResponse, ...(csr ? { keyPem: csr.keyPem } : {}) };
}

/** EdgeLink credentials for what a join returned. */
export function linkCredentials(
  node: string,
  joined: Joined,
): { cert: string; key: string } | { username: string; password: string } {
  const { clientCert, password } = joined.response;
  if (clientCert !== undefined && joined.keyPem !== undefined)
    return { cert: clientCert, key: joined.keyPem };
  if (password === undefined)
    throw new Error(`the join of ${node} returned neither a certificate nor a password`);
  return { username: node, password };
}

/** A joined node's link and sync engine, with an in-memory desired set. */
export class SimAgent {
  readonly sink = new MemoryDesiredSink();
  readonly outbox: Outbox;
  readonly link: EdgeLink;
  readonly agent: SyncAgent;
  private readonly dir: string;

  constructor(
    readonly node: string,
    readonly joined: Joined,
    opts: { websocket?: boolean; heartbeatMs?: number } = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "ek-agent-"));
    this.outbox = new Outbox(join(this.dir, "outbox.db"));
    this.link = new EdgeLink({
      url: opts.websocket ? joined.response.mqtt.wsUrl : joined.response.mqtt.url,
      node,
      ca: joined.response.ca,
      ...linkCredentials(node, joined),
      keepaliveSeconds: 5,
      backoff: { baseMs: 50, maxMs: 500 },
    });
    this.agent = new SyncAgent({
      node,
      agentVersion: "test",
      channel: this.link,
      sink: this.sink,
      outbox: this.outbox,
      replyTimeoutMs: 2000,
      ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    });
  }

  async start(): Promise<void> {
    await this.link.start();
    await this.agent.start();
  }

  async stop(): Promise<void> {
    this.agent.stop();
    await this.link.stop();
    this.outbox.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  keys(): string[] {
    return [...this.sink.objects.keys()].sort();
  }
}

/**
 * A SimAgent for a fresh node named `<prefix>-…`, joined to `hub` with a new token (not
 * started: the caller registers its cleanup, then starts it).
 */
export async function joinSimAgent(
  hub: Hub,
  dataDir: string,
  prefix: string,
  opts: ConstructorParameters<typeof SimAgent>[2] = {},
): Promise<SimAgent> {
  const node = uniqueNode(prefix);
  return new SimAgent(node, await joinHub(hub.url, await mintToken(hub, dataDir), { nodeName: node }), opts);
}
