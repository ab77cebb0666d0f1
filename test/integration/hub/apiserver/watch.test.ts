/**
 * Watch semantics over real HTTPS: events after the requested resourceVersion in order,
 * selector transitions (ADDED/DELETED as objects enter or leave a selector), bookmarks, and
 * a 410 Expired ERROR event for a compacted resourceVersion, and coalesced writes under a burst.
 */

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { startHub, type TestHub } from "../../../helpers/hub.js";

interface Ev {
  type: string;
  object: {
    kind?: string;
    metadata: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
    code?: number;
    reason?: string;
  };
}

describe("watch over HTTPS", () => {
  let h: TestHub;
  let server = "";
  let ca: Buffer;
  let token = "";
  beforeAll(async () => {
    h = await startHub({ bookmarkIntervalMs: 200 });
    const kc = parseYaml(readFileSync(h.kubeconfig, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { user: { token: string } }[];
    };
    server = kc.clusters[0]!.cluster.server;
    ca = Buffer.from(kc.clusters[0]!.cluster["certificate-authority-data"], "base64");
    token = kc.users[0]!.user.token;
    await h.kubectl(["create", "ns", "w1"]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  function watch(path: string): { events: Ev[]; close: () => void; status: Promise<number> } {
    const events: Ev[] = [];
    let buf = "";
    let resolveStatus: (n: number) => void = () => {};
    const status = new Promise<number>((r) => {
      resolveStatus = r;
    });
    const req = request(
      new URL(path, server),
      { ca, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        resolveStatus(res.statusCode ?? 0);
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          buf += c;
          for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
            events.push(JSON.parse(buf.slice(0, i)) as Ev);
            buf = buf.slice(i + 1);
          }
        });
      },
    );
    req.on("error", () => {});
    req.end();
    return { events, close: () => req.destroy(), status };
  }

  it("streams changes after the list's resourceVersion, with selector transitions and bookmarks", async () => {
    const rv = JSON.parse((await h.kubectl(["get", "cm", "-n", "w1", "-o", "json"])).stdout).metadata
      .resourceVersion as string;
    const w = watch(
      `/api/v1/namespaces/w1/configmaps?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb&allowWatchBookmarks=true`,
    );
    expect(await w.status).toBe(200);
    await h.kubectl(["create", "configmap", "a", "-n", "w1", "--from-literal=x=1"]); // no label: not seen
    await h.kubectl(["label", "cm", "a", "-n", "w1", "app=web"]); // enters the selector → ADDED
    await h.kubectl(["label", "cm", "a", "-n", "w1", "app=db", "--overwrite"]); // leaves it → DELETED
    await vi.waitFor(
      () => {
        const kinds = w.events
          .filter((e) => e.type !== "BOOKMARK")
          .map((e) => `${e.type}:${e.object.metadata.name}`);
        expect(kinds).toEqual(["ADDED:a", "DELETED:a"]);
        expect(w.events.some((e) => e.type === "BOOKMARK")).toBe(true);
      },
      { timeout: 10_000 },
    );
    const rvs = w.events
      .filter((e) => e.type !== "BOOKMARK")
      .map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs[1]).toBeGreaterThan(rvs[0]!);
    w.close();
  });

  it("answers a compacted resourceVersion with a 410 Expired ERROR event", async () => {
    const backend = h.hub.store!.backend;
    for (let i = 0; i < 5; i++)
      await h.kubectl(["create", "configmap", `c${i}`, "-n", "w1", "--from-literal=x=1"]);
    await backend.compact(backend.currentRevision());
    const w = watch("/api/v1/namespaces/w1/configmaps?watch=true&resourceVersion=2");
    await vi.waitFor(
      () => {
        const err = w.events.find((e) => e.type === "ERROR");
        expect(err?.object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
      },
      { timeout: 10_000 },
    );
    w.close();
  });

  /** A watch read off a raw TLS socket: its events and the HTTP chunks they came in. */
  function rawWatch(path: string): { lines: string[]; chunks: () => number; close: () => void } {
    const url = new URL(path, server);
    const lines: string[] = [];
    let chunks = 0;
    let buf = Buffer.alloc(0);
    let body = false;
    let text = "";
    const sock = connect({ host: url.hostname, port: Number(url.port), ca, servername: "localhost" }, () => {
      sock.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
    sock.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (!body) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        buf = buf.subarray(end + 4);
        body = true;
      }
      // chunked framing: "<hex size>\r\n<data>\r\n"
      for (;;) {
        const eol = buf.indexOf("\r\n");
        if (eol < 0) return;
        const size = Number.parseInt(buf.subarray(0, eol).toString("latin1"), 16);
        if (buf.length < eol + 2 + size + 2) return;
        text += buf.subarray(eol + 2, eol + 2 + size).toString("utf8");
        buf = buf.subarray(eol + 2 + size + 2);
        chunks++;
        for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n")) {
          lines.push(text.slice(0, i));
          text = text.slice(i + 1);
        }
      }
    });
    sock.on("error", () => {});
    return { lines, chunks: () => chunks, close: () => sock.destroy() };
  }

  it("delivers a burst of concurrent creates once each and in order through coalesced writes", async () => {
    await h.kubectl(["create", "ns", "burst"]);
    const listed = await new Promise<string>((resolve) => {
      const req = request(
        new URL("/api/v1/namespaces/burst/configmaps", server),
        { ca, headers: { Authorization: `Bearer ${token}` } },
        (res) => {
          let s = "";
          res.on("data", (c) => (s += c));
          res.on("end", () => resolve(s));
        },
      );
      req.end();
    });
    const rv = (JSON.parse(listed) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const w = rawWatch(`/api/v1/namespaces/burst/configmaps?watch=true&resourceVersion=${rv}`);
    const N = 300;
    const post = (i: number) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          new URL("/api/v1/namespaces/burst/configmaps", server),
          {
            method: "POST",
            ca,
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ metadata: { name: `b${i}` }, data: { i: String(i) } }));
      });
    // 300 creates from 30 concurrent clients: many commits a second, far more than 1 per 10 ms
    const codes: number[] = [];
    for (let i = 0; i < N; i += 30) {
      codes.push(...(await Promise.all(Array.from({ length: 30 }, (_, k) => post(i + k)))));
    }
    expect(codes.every((c) => c === 201)).toBe(true);
    await vi.waitFor(() => expect(w.lines.filter((l) => l.includes('"name":"b')).length).toBe(N), {
      timeout: 20_000,
    });
    const events = w.lines.map(
      (l) =>
        JSON.parse(l) as { type: string; object: { metadata: { name: string; resourceVersion: string } } },
    );
    const ours = events.filter((e) => e.object.metadata.name.startsWith("b"));
    expect(ours.every((e) => e.type === "ADDED")).toBe(true);
    expect(new Set(ours.map((e) => e.object.metadata.name)).size).toBe(N);
    const rvs = ours.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    // the framing the client reads: every event arrived within chunks, never split oddly
    expect(w.chunks()).toBeGreaterThan(0);
    w.close();
  });
});
