/**
 * The Client contract over the hub's HTTPS API, for benchmarks whose simulated kubelets and
 * observers run outside the hub process (so the hub's RSS is the hub's alone). Plain JSON
 * requests on keep-alive connections; watches are `?watch=1` streams of newline-delimited
 * events, as kubectl reads them.
 *
 * Design notes
 * - Paths follow upstream's layout: /api/v1 for the core group, /apis/GROUP/VERSION otherwise.
 * - mutate() is read-modify-write with optimistic concurrency, retried on 409 like the hub's
 *   in-process client, so KubeletSim behaves the same over either.
 * - A watch that ends with a 410 (or an ERROR event carrying 410) reports expired=true, so
 *   informers relist; any other end is an error without expiry (informers relist too).
 */
import { Agent, request } from "node:https";
import type { KubeObject } from "../../src/api/object.js";
import type {
  Client,
  ClientWatch,
  ClientWatchEvent,
  DeleteOptions,
  ListResult,
  ResourceRef,
} from "../../src/client/client.js";

export class ApiRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

export class HttpsClient implements Client {
  private readonly agent: Agent;

  constructor(
    private readonly server: string,
    private readonly ca: Buffer | string,
    private readonly token: string,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca });
  }

  close(): void {
    this.agent.destroy();
  }

  private path(ref: ResourceRef, ns: string | undefined, name?: string, sub?: string): string {
    const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
    const scope = ns ? `/namespaces/${ns}` : "";
    return `${base}${scope}/${ref.resource}${name ? `/${name}` : ""}${sub ? `/${sub}` : ""}`;
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        new URL(path, this.server),
        {
          method,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${this.token}`,
            Accept: "application/json",
            ...(payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve((text ? JSON.parse(text) : undefined) as T);
            else reject(new ApiRequestError(code, `${method} ${path}: ${code} ${text.slice(0, 300)}`));
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  async get(ref: ResourceRef, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.call<KubeObject>("GET", this.path(ref, ns, name));
    } catch (e) {
      if (e instanceof ApiRequestError && e.code === 404) return undefined;
      throw e;
    }
  }

  async list(ref: ResourceRef, ns?: string): Promise<ListResult> {
    const l = await this.call<{ items: KubeObject[]; metadata: { resourceVersion: string } }>(
      "GET",
      this.path(ref, ns),
    );
    return { items: l.items, resourceVersion: l.metadata.resourceVersion };
  }

  watch(
    ref: ResourceRef,
    ns: string | undefined,
    resourceVersion: string,
    onEvents: (events: ClientWatchEvent[]) => void,
    onError: (err: Error, expired: boolean) => void,
  ): ClientWatch {
    let cancelled = false;
    let ended = false;
    const end = (err: Error, expired: boolean) => {
      if (cancelled || ended) return;
      ended = true;
      onError(err, expired);
    };
    const path = `${this.path(ref, ns)}?watch=1&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    const req = request(
      new URL(path, this.server),
      { agent: false, ca: this.ca, headers: { Authorization: `Bearer ${this.token}` } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(
            new ApiRequestError(res.statusCode ?? 0, `watch ${path}: ${res.statusCode}`),
            res.statusCode === 410,
          );
          return;
        }
        let rest = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const lines = (rest + chunk).split("\n");
          rest = lines.pop() ?? "";
          const batch: ClientWatchEvent[] = [];
          for (const line of lines) {
            if (!line.trim()) continue;
            const e = JSON.parse(line) as { type: string; object: KubeObject & { code?: number } };
            if (e.type === "ERROR") {
              end(new ApiRequestError(e.object.code ?? 500, `watch ${path}: ${line}`), e.object.code === 410);
              req.destroy();
              return;
            }
            if (e.type === "ADDED" || e.type === "MODIFIED" || e.type === "DELETED") {
              batch.push({ type: e.type, object: e.object });
            }
          }
          if (batch.length > 0 && !cancelled) onEvents(batch);
        });
        res.on("end", () => end(new Error(`watch ${path} ended`), false));
        res.on("error", (err) => end(err, false));
      },
    );
    req.on("error", (err) => end(err, false));
    req.end();
    return {
      cancel: () => {
        cancelled = true;
        req.destroy();
      },
    };
  }

  create(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.call("POST", this.path(ref, ns), obj);
  }

  update(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.call("PUT", this.path(ref, ns, obj.metadata.name), obj);
  }

  updateStatus(ref: ResourceRef, ns: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.call("PUT", this.path(ref, ns, obj.metadata.name, "status"), obj);
  }

  async mutate(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    fn: (cur: KubeObject) => KubeObject,
    opts: { status?: boolean } = {},
  ): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.get(ref, ns, name);
      if (!cur) throw new ApiRequestError(404, `${ref.resource} "${name}" not found`);
      const next = fn(cur);
      try {
        return await (opts.status ? this.updateStatus(ref, ns, next) : this.update(ref, ns, next));
      } catch (e) {
        if (!(e instanceof ApiRequestError && e.code === 409) || attempt >= 20) throw e;
      }
    }
  }

  async delete(
    ref: ResourceRef,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<void> {
    await this.call("DELETE", this.path(ref, ns, name), { apiVersion: "v1", kind: "DeleteOptions", ...opts });
  }
}
