/**
 * The hub's API as a benchmark sees it over HTTPS with the admin kubeconfig's token and CA:
 * a pod watch (newline-delimited JSON events), a pod's log read to its end (bytes counted, not
 * kept), and an exec session over WebSocket `v5.channel.k8s.io` for round trips through
 * hub ⇄ MQTT ⇄ agent ⇄ Docker. Only the verbs bench/pods needs; nothing is retried.
 */
import type { ClientRequest } from "node:http";
import { request } from "node:https";
import WebSocket from "ws";
import type { HttpClientConfig } from "../../src/client/http-client.js";

export interface PodEvent {
  type: string;
  name: string;
  phase: string | undefined;
}

/** Watches pods of `ns` from now on; `onEvent` sees every event. Resolves once the watch is open. */
export function watchPods(
  cfg: HttpClientConfig,
  ns: string,
  onEvent: (e: PodEvent) => void,
): Promise<{ stop: () => void }> {
  const url = new URL(`/api/v1/namespaces/${ns}/pods?watch=1&allowWatchBookmarks=false`, cfg.server);
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined;
    req = request(
      url,
      { ca: cfg.caPem, headers: { Authorization: `Bearer ${cfg.token}`, Accept: "application/json" } },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${url.pathname}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buf += chunk;
          for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as {
              type: string;
              object: { metadata?: { name?: string }; status?: { phase?: string } };
            };
            onEvent({ type: ev.type, name: ev.object.metadata?.name ?? "", phase: ev.object.status?.phase });
          }
        });
        res.on("error", () => {});
        resolve({ stop: () => req?.destroy() });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** GETs a pod's log (no follow) and counts its bytes; the clock starts at the request. */
export function readLog(
  cfg: HttpClientConfig,
  ns: string,
  pod: string,
  query = "",
): Promise<{ bytes: number; seconds: number; firstByteMs: number }> {
  const url = new URL(`/api/v1/namespaces/${ns}/pods/${pod}/log${query}`, cfg.server);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: cfg.caPem, headers: { Authorization: `Bearer ${cfg.token}` }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        let bytes = 0;
        let first = 0;
        res.on("data", (c: Buffer) => {
          if (bytes === 0) first = performance.now() - t0;
          bytes += c.length;
        });
        res.on("end", () => resolve({ bytes, seconds: (performance.now() - t0) / 1000, firstByteMs: first }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

export interface ExecSession {
  /** writes `data` to stdin and resolves when `expect` has appeared on stdout since the write */
  roundTrip: (data: string, expect: string) => Promise<number>;
  close: () => Promise<void>;
}

/** Opens `kubectl exec -i`'s WebSocket (v5.channel.k8s.io) running `command` in the pod. */
export function openExec(
  cfg: HttpClientConfig,
  ns: string,
  pod: string,
  command: string[],
): Promise<ExecSession> {
  const pairs: [string, string][] = command.map((c) => ["command", c]);
  const q = new URLSearchParams([...pairs, ["stdin", "true"], ["stdout", "true"]]);
  const url = new URL(`/api/v1/namespaces/${ns}/pods/${pod}/exec?${q}`, cfg.server);
  url.protocol = "wss:";
  const ws = new WebSocket(url, ["v5.channel.k8s.io"], {
    ca: cfg.caPem,
    headers: { Authorization: `Bearer ${cfg.token}` },
    perMessageDeflate: false,
  });
  let out = "";
  let waiter: { expect: string; t0: number; done: (ms: number) => void } | undefined;
  ws.on("message", (data: Buffer) => {
    if (data[0] !== 1) return; // stdout only
    out += data.subarray(1).toString("utf8");
    if (waiter && out.includes(waiter.expect)) {
      const w = waiter;
      waiter = undefined;
      out = "";
      w.done(performance.now() - w.t0);
    }
  });
  const closed = new Promise<void>((r) => ws.once("close", () => r()));
  return new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) =>
      reject(new Error(`exec ${url.pathname}: HTTP ${res.statusCode} (expected a WebSocket upgrade)`)),
    );
    ws.once("open", () =>
      resolve({
        roundTrip: (data, expect) =>
          new Promise<number>((done, fail) => {
            out = "";
            waiter = { expect, t0: performance.now(), done };
            ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(data)]), (err) => err && fail(err));
          }),
        close: async () => {
          if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.from([255, 0]));
          const t = setTimeout(() => ws.terminate(), 5000);
          await closed;
          clearTimeout(t);
        },
      }),
    );
  });
}
