/**
 * Several watchers from the same old resourceVersion while writes continue, over real HTTPS
 * against a hub on a real SQLite file: the replay pages they share (store/replay-cache.ts)
 * must still give each one exactly its own events — namespace, label selector (with
 * ADDED/DELETED transitions), Table rendering — in order, across the switch from the
 * replayed backlog to live events, with no gap and no duplicate; bookmarks keep coming.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { SqliteBackend } from "../../../../src/hub/store/index.js";
import { startHub, type TestHub } from "../../../helpers/hub.js";

interface Meta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
}
interface Ev {
  type: string;
  object: { kind?: string; metadata: Meta; rows?: { object: { metadata: Meta } }[] };
}

/** One committed write of the test, as the API answered it. */
interface Write {
  kind: "create" | "update" | "delete";
  ns: string;
  name: string;
  rv: number;
  web: boolean;
}

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

describe("watch replay shared by watchers from the same resourceVersion", () => {
  let h: TestHub;
  let server = "";
  let ca: Buffer;
  let token = "";
  beforeAll(async () => {
    h = await startHub({ bookmarkIntervalMs: 300 });
    const kc = parseYaml(readFileSync(h.kubeconfig, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { user: { token: string } }[];
    };
    server = kc.clusters[0]!.cluster.server;
    ca = Buffer.from(kc.clusters[0]!.cluster["certificate-authority-data"], "base64");
    token = kc.users[0]!.user.token;
    await h.kubectl(["create", "ns", "wr1"]);
    await h.kubectl(["create", "ns", "wr2"]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  function call(method: string, path: string, body?: unknown): Promise<{ metadata: Meta }> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, server),
        { method, ca, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } },
        (res) => {
          let s = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (s += c));
          res.on("end", () =>
            (res.statusCode ?? 500) < 300
              ? resolve(JSON.parse(s))
              : reject(new Error(`${method} ${path}: ${s}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  function watch(path: string, accept = "application/json"): { events: Ev[]; close: () => void } {
    const events: Ev[] = [];
    let buf = "";
    const req = request(
      new URL(path, server),
      { ca, headers: { Authorization: `Bearer ${token}`, Accept: accept } },
      (res) => {
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
    return { events, close: () => req.destroy() };
  }

  const cm = (ns: string, name: string, web: boolean) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns, labels: { app: web ? "web" : "db" } },
    data: { payload: "x".repeat(200) },
  });

  /** run `ops` with at most `conc` in flight, recording each committed write */
  async function run<T>(ops: (() => Promise<T>)[], conc: number, out: T[]): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < ops.length) out.push(await ops[next++]!());
      }),
    );
  }

  const create = (ns: string, name: string, web: boolean) => async (): Promise<Write> => {
    const o = await call("POST", `/api/v1/namespaces/${ns}/configmaps`, cm(ns, name, web));
    return { kind: "create", ns, name, rv: Number(o.metadata.resourceVersion), web };
  };
  const update = (ns: string, name: string, web: boolean) => async (): Promise<Write> => {
    const o = await call("PUT", `/api/v1/namespaces/${ns}/configmaps/${name}`, cm(ns, name, web));
    return { kind: "update", ns, name, rv: Number(o.metadata.resourceVersion), web };
  };
  const remove = (ns: string, name: string) => async (): Promise<void> => {
    await call("DELETE", `/api/v1/namespaces/${ns}/configmaps/${name}`);
  };

  /** what a watcher of `ns` ("" = all) with an optional app=web selector must see, in order */
  function expected(writes: Write[], after: number, ns: string, webOnly: boolean): string[] {
    const matched = new Map<string, boolean>();
    const out: string[] = [];
    for (const w of [...writes].sort((a, b) => a.rv - b.rv)) {
      const key = `${w.ns}/${w.name}`;
      const before = matched.get(key) ?? false;
      const now = w.kind !== "delete" && (!webOnly || w.web);
      matched.set(key, now);
      if (w.rv <= after || (ns !== "" && w.ns !== ns)) continue;
      let type = w.kind === "create" ? "ADDED" : w.kind === "update" ? "MODIFIED" : "DELETED";
      if (webOnly && w.kind !== "delete") {
        if (now && !before) type = "ADDED";
        else if (!now && before) type = "DELETED";
        else if (!now) continue;
      } else if (webOnly && !before) continue;
      out.push(`${type}:${key}@${w.rv}`);
    }
    return out;
  }

  function seen(events: Ev[]): string[] {
    return events
      .filter((e) => e.type !== "BOOKMARK")
      .map((e) => {
        const m = e.object.rows ? e.object.rows[0]!.object.metadata : e.object.metadata;
        return { type: e.type, m };
      })
      .filter(({ m }) => m.name?.startsWith("r-"))
      .map(({ type, m }) => `${type}:${m.namespace}/${m.name}@${m.resourceVersion}`);
  }

  it("gives each watcher exactly its events, in order, across replay and live", async () => {
    const rv0 = Number((await call("GET", "/api/v1/configmaps?limit=1")).metadata.resourceVersion);
    const writes: Write[] = [];
    const names = Array.from({ length: 80 }, (_, i) => ({ ns: i % 2 ? "wr2" : "wr1", name: `r-${i}` }));
    // the backlog the watchers replay
    await run(
      names.map(({ ns, name }, i) => create(ns, name, i % 3 === 0)),
      8,
      writes,
    );
    const q = `watch=true&resourceVersion=${rv0}`;
    const specs = [
      { ns: "", web: false, path: `/api/v1/configmaps?${q}` },
      { ns: "", web: false, path: `/api/v1/configmaps?${q}&allowWatchBookmarks=true` },
      { ns: "wr1", web: false, path: `/api/v1/namespaces/wr1/configmaps?${q}` },
      { ns: "wr1", web: false, path: `/api/v1/namespaces/wr1/configmaps?${q}`, accept: TABLE },
      { ns: "wr1", web: true, path: `/api/v1/namespaces/wr1/configmaps?${q}&labelSelector=app%3Dweb` },
      { ns: "", web: true, path: `/api/v1/configmaps?${q}&labelSelector=app%3Dweb` },
      { ns: "", web: true, path: `/api/v1/configmaps?${q}&labelSelector=app%3Dweb`, accept: TABLE },
      { ns: "", web: false, path: `/api/v1/configmaps?${q}` },
    ];
    // writes racing the replays: labels flip (objects enter and leave the selector), then a
    // quarter is deleted. The watchers join one by one while the updates commit, so the
    // later ones find the range cached by the first ones ending below the newest revision
    // and must read on from there before switching to live events.
    const updating = run(
      names.map(({ ns, name }, i) => update(ns, name, i % 3 !== 0)),
      2,
      writes,
    );
    const watchers: { ns: string; web: boolean; w: ReturnType<typeof watch> }[] = [];
    for (const [k, spec] of specs.entries()) {
      await vi.waitFor(() => expect(writes.length).toBeGreaterThanOrEqual(80 + 8 * k), { timeout: 30_000 });
      watchers.push({ ns: spec.ns, web: spec.web, w: watch(spec.path, spec.accept) });
    }
    await updating;
    const gone = names.filter((_, i) => i % 4 === 0);
    await run(
      gone.map(({ ns, name }) => remove(ns, name)),
      8,
      [],
    );
    // a delete's revision is the tombstone's, which the reply does not carry: take it from
    // the unfiltered watcher's DELETED events
    const all = watchers[0]!.w;
    await vi.waitFor(() => expect(all.events.filter((e) => e.type === "DELETED")).toHaveLength(gone.length), {
      timeout: 30_000,
    });
    for (const e of all.events.filter((e) => e.type === "DELETED")) {
      const m = e.object.metadata;
      const i = names.findIndex((n) => n.name === m.name);
      writes.push({
        kind: "delete",
        ns: m.namespace!,
        name: m.name!,
        rv: Number(m.resourceVersion),
        web: i % 3 !== 0,
      });
    }
    expect(writes).toHaveLength(80 + 80 + gone.length);

    for (const { ns, web, w } of watchers) {
      const want = expected(writes, rv0, ns, web);
      expect(want.length).toBeGreaterThan(20);
      await vi.waitFor(() => expect(seen(w.events)).toEqual(want), { timeout: 30_000 });
    }
    // bookmarks keep coming after the hand-over, at or past the newest event seen
    const bm = watchers[1]!.w;
    const newest = Math.max(...writes.map((w) => w.rv));
    await vi.waitFor(
      () => {
        const b = bm.events.filter((e) => e.type === "BOOKMARK").at(-1);
        expect(Number(b?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(newest);
      },
      { timeout: 10_000 },
    );
    for (const { w } of watchers) w.close();
    // the watchers of one prefix shared pages instead of each reading the log
    const backend = h.hub.store!.backend;
    expect(backend).toBeInstanceOf(SqliteBackend);
    expect((backend as SqliteBackend).replayStats()?.hits).toBeGreaterThan(0);
  });
});
