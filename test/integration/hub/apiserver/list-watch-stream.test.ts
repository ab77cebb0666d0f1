/**
 * The request path's fast forms over real HTTPS against a real hub on a SQLite file:
 * - an unpaged list streams its head first and is the same document a paged list gives
 *   (JSON and Table);
 * - a create or update replies with exactly the bytes the store wrote (the object as a GET
 *   returns it);
 * - many watchers of one collection get the shared, once-encoded lines: every event, in
 *   order, byte-identical across watchers, while selector and single-name watchers still get
 *   their own subsets.
 */

import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { startHub, type TestHub } from "../../../helpers/hub.js";

interface Obj {
  kind?: string;
  metadata: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

describe("streamed lists, raw write replies and shared watch lines", () => {
  let h: TestHub;
  let server = "";
  let ca: Buffer;
  let token = "";
  let agent: Agent;
  const NS = `lws-${process.pid}`;

  beforeAll(async () => {
    h = await startHub({});
    const kc = parseYaml(readFileSync(h.kubeconfig, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { user: { token: string } }[];
    };
    server = kc.clusters[0]!.cluster.server;
    ca = Buffer.from(kc.clusters[0]!.cluster["certificate-authority-data"], "base64");
    token = kc.users[0]!.user.token;
    agent = new Agent({ keepAlive: true, ca, maxSockets: 16 });
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  });
  afterAll(async () => {
    agent?.destroy();
    await h?.stop();
  });

  function call(
    method: string,
    path: string,
    body?: unknown,
    accept = "application/json",
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, server),
        {
          method,
          agent,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: accept,
            ...(data ? { "Content-Type": "application/json" } : {}),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  }

  function watch(path: string): { lines: string[]; close: () => void } {
    const lines: string[] = [];
    let buf = "";
    const req = request(
      new URL(path, server),
      { ca, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          buf += c;
          for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
            lines.push(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
      },
    );
    req.on("error", () => {});
    req.end();
    return { lines, close: () => req.destroy() };
  }

  const cm = (name: string, labels: Record<string, string> = {}, v = "1") => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, labels },
    data: { v },
  });

  it("replies to create and update with the object as stored", async () => {
    const created = await call("POST", `/api/v1/namespaces/${NS}/configmaps`, cm("raw", { a: "b" }));
    expect(created.status).toBe(201);
    const c = JSON.parse(created.text) as Obj;
    expect(c.metadata.resourceVersion).toMatch(/^\d+$/);
    const got = await call("GET", `/api/v1/namespaces/${NS}/configmaps/raw`);
    expect(JSON.parse(got.text)).toEqual(c);
    const updated = await call("PUT", `/api/v1/namespaces/${NS}/configmaps/raw`, {
      ...c,
      data: { v: "2" },
    });
    expect(updated.status).toBe(200);
    const u = JSON.parse(updated.text) as Obj;
    expect(u.data).toEqual({ v: "2" });
    expect(Number(u.metadata.resourceVersion)).toBeGreaterThan(Number(c.metadata.resourceVersion));
    expect(JSON.parse((await call("GET", `/api/v1/namespaces/${NS}/configmaps/raw`)).text)).toEqual(u);
    // a no-op update keeps the resourceVersion and still answers with the object
    const same = await call("PUT", `/api/v1/namespaces/${NS}/configmaps/raw`, u);
    expect(JSON.parse(same.text)).toEqual(u);
  });

  it("streams an unpaged list that equals the paged one, as JSON and as a Table", async () => {
    const ns = `${NS}-list`;
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    // values with multi-byte characters and sizes that straddle the reply's 64 KiB chunks
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        call("POST", `/api/v1/namespaces/${ns}/configmaps`, cm(`c${i}`, {}, `ü✓${"x".repeat(i * 3)}`)),
      ),
    );
    const whole = await call("GET", `/api/v1/namespaces/${ns}/configmaps`);
    expect(
      whole.text.startsWith(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"`),
    ).toBe(true);
    const list = JSON.parse(whole.text) as { metadata: { resourceVersion: string }; items: Obj[] };
    const paged = JSON.parse((await call("GET", `/api/v1/namespaces/${ns}/configmaps?limit=1000`)).text) as {
      items: Obj[];
    };
    expect(list.items).toEqual(paged.items);
    expect(list.items.filter((o) => o.metadata.name?.startsWith("c"))).toHaveLength(300);
    // the selector path (objects parsed, then encoded) gives the same document
    const selected = JSON.parse(
      (await call("GET", `/api/v1/namespaces/${ns}/configmaps?fieldSelector=metadata.namespace%3D${ns}`))
        .text,
    ) as { items: Obj[] };
    expect(selected.items).toEqual(list.items);
    // pages chained by continue tokens: same items, and the count of what is left
    const chained: Obj[] = [];
    let cont = "";
    const left: number[] = [];
    do {
      const page = JSON.parse(
        (
          await call(
            "GET",
            `/api/v1/namespaces/${ns}/configmaps?limit=70${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`,
          )
        ).text,
      ) as { metadata: { continue?: string; remainingItemCount?: number }; items: Obj[] };
      chained.push(...page.items);
      cont = page.metadata.continue ?? "";
      if (page.metadata.remainingItemCount !== undefined) left.push(page.metadata.remainingItemCount);
    } while (cont);
    expect(chained).toEqual(list.items);
    expect(left).toEqual([231, 161, 91, 21]);

    const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    type Table = {
      kind: string;
      metadata: { resourceVersion: string };
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[]; object: Obj }[];
    };
    const t = JSON.parse(
      (await call("GET", `/api/v1/namespaces/${ns}/configmaps`, undefined, TABLE)).text,
    ) as Table;
    const tp = JSON.parse(
      (await call("GET", `/api/v1/namespaces/${ns}/configmaps?limit=1000`, undefined, TABLE)).text,
    ) as Table;
    expect(t.kind).toBe("Table");
    expect(t.metadata.resourceVersion).toBe(list.metadata.resourceVersion);
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(tp.columnDefinitions.map((c) => c.name));
    expect(t.rows.map((r) => r.object.metadata.name)).toEqual(list.items.map((o) => o.metadata.name));
    expect(t.rows.map((r) => r.cells.slice(0, 2))).toEqual(tp.rows.map((r) => r.cells.slice(0, 2)));
  });

  it("gives every watcher every event in order, the same bytes to each", async () => {
    const ns = `${NS}-watch`;
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const rv = (
      JSON.parse((await call("GET", `/api/v1/namespaces/${ns}/configmaps`)).text) as {
        metadata: { resourceVersion: string };
      }
    ).metadata.resourceVersion;
    const base = `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${rv}`;
    const plain = Array.from({ length: 8 }, () => watch(base));
    const selected = watch(`${base}&labelSelector=pick%3Dyes`);
    const single = watch(
      `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dw7`,
    );
    const N = 200;
    // wait until every watch is registered: a marker object reaches all of them
    await call("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("marker", { pick: "yes" }));
    await vi.waitFor(() => {
      for (const w of [...plain, selected]) expect(w.lines.length).toBeGreaterThan(0);
    });
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        call(
          "POST",
          `/api/v1/namespaces/${ns}/configmaps`,
          cm(`w${i}`, { pick: i % 10 === 0 ? "yes" : "no" }),
        ),
      ),
    );
    await call("PUT", `/api/v1/namespaces/${ns}/configmaps/w7`, cm("w7", { pick: "yes" }, "2"));
    const ours = (w: { lines: string[] }) =>
      w.lines.filter((l) => !l.includes('"name":"kube-root-ca.crt"') && !l.includes('"type":"BOOKMARK"'));
    await vi.waitFor(
      () => {
        for (const w of plain) expect(ours(w).length).toBe(N + 2);
        expect(ours(selected).length).toBe(1 + N / 10 + 1);
        expect(ours(single).length).toBe(2);
      },
      { timeout: 20_000 },
    );
    for (const w of plain) w.close();
    selected.close();
    single.close();

    const first = ours(plain[0]!);
    for (const w of plain) expect(ours(w)).toEqual(first);
    const evs = first.map((l) => JSON.parse(l) as { type: string; object: Obj });
    const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
    for (let i = 1; i < rvs.length; i++) expect(rvs[i]).toBeGreaterThan(rvs[i - 1]!);
    expect(new Set(evs.filter((e) => e.type === "ADDED").map((e) => e.object.metadata.name)).size).toBe(
      N + 1,
    );
    expect(evs[evs.length - 1]).toMatchObject({ type: "MODIFIED", object: { metadata: { name: "w7" } } });
    // w7 enters the selector on its update: ADDED there, MODIFIED for the plain watchers
    const sel = ours(selected).map((l) => JSON.parse(l) as { type: string; object: Obj });
    expect(sel[sel.length - 1]).toMatchObject({ type: "ADDED", object: { metadata: { name: "w7" } } });
    const one = ours(single).map((l) => JSON.parse(l) as { type: string; object: Obj });
    expect(one.map((e) => e.type)).toEqual(["ADDED", "MODIFIED"]);
  });
});
