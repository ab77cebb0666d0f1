/**
 * HttpClient: a tiny HTTPS JSON client for command-line tools talking to a running hub with a
 * kubeconfig (server URL, CA data, bearer token). Not a full Client: just the verbs the CLI
 * needs, with the API's Status messages turned into errors a person can act on.
 *
 * Design notes
 * - TLS is always verified against the kubeconfig's CA: the CLI handles join secrets.
 * - Only the first cluster/user/context the current-context names is read; exec plugins and
 *   client certificates are not supported (the hub's admin kubeconfig uses a token).
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parse as parseYaml } from "yaml";
import { isObject } from "../api/object.js";

export interface HttpClientConfig {
  server: string;
  caPem: string;
  token: string;
}

export class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

type Named = { name?: unknown; [k: string]: unknown };

function pick(list: unknown, name: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const found = (list as Named[]).find((e) => isObject(e) && (name === undefined || e.name === name));
  return found && isObject(found) ? found : undefined;
}

/** Reads server, CA and token from a kubeconfig file (the current context's). */
export function loadKubeconfig(path: string): HttpClientConfig {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new Error(`${path} is not a kubeconfig (expected a YAML mapping)`);
  const ctx = pick(doc.contexts, doc["current-context"])?.context;
  const clusterName = isObject(ctx) ? ctx.cluster : undefined;
  const userName = isObject(ctx) ? ctx.user : undefined;
  const cluster = pick(doc.clusters, clusterName)?.cluster;
  const user = pick(doc.users, userName)?.user;
  const server = isObject(cluster) ? cluster.server : undefined;
  const caData = isObject(cluster) ? cluster["certificate-authority-data"] : undefined;
  const token = isObject(user) ? user.token : undefined;
  if (typeof server !== "string" || typeof caData !== "string" || typeof token !== "string") {
    throw new Error(
      `${path} lacks a server, certificate-authority-data or token: use the hub's admin.kubeconfig from its data dir`,
    );
  }
  return { server, caPem: Buffer.from(caData, "base64").toString("utf8"), token };
}

export class HttpClient {
  constructor(readonly config: HttpClientConfig) {}

  static fromKubeconfig(path: string): HttpClient {
    return new HttpClient(loadKubeconfig(path));
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.config.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.config.caPem,
          headers: {
            Authorization: `Bearer ${this.config.token}`,
            Accept: "application/json",
            ...(payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text for the error message
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) {
              resolve(parsed as T);
              return;
            }
            const msg = isObject(parsed) && typeof parsed.message === "string" ? parsed.message : text.trim();
            const reason = isObject(parsed) && typeof parsed.reason === "string" ? parsed.reason : undefined;
            reject(new HttpError(code, `${method} ${url.pathname}: ${code} ${msg}`, reason));
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${url.href} timed out after 30 s`)));
      req.on("error", (err) =>
        reject(
          new Error(
            `cannot reach the hub at ${this.config.server}: ${err.message} (is "edge-hub server" running?)`,
            {
              cause: err,
            },
          ),
        ),
      );
      req.end(payload);
    });
  }
}
