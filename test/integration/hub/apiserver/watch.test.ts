/**
 * Watch semantics over real HTTPS: events after the requested resourceVersion in order,
 * selector transitions (ADDED/DELETED as objects enter or leave a selector), bookmarks, and
 * a 410 Expired ERROR event for a compacted resourceVersion.
 */

import { readFileSync } from "node:fs";
import { request } from "node:https";
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
});
