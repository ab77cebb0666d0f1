/**
 * A hub told to stop lets the API requests it is answering finish: a create whose body is still
 * arriving when stop() is called gets its 201, the object is in the store afterwards, and the
 * stop waits for it. Cut instead (as before), the client saw a reset and could not tell whether
 * the write landed. Watches are not waited for: a stop with a watch open still ends at once.
 */

import { rmSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, describe, expect, it, vi } from "vitest";
import { builtinResources } from "../../../../src/hub/apiserver/builtin-resources.js";
import { ObjectStore } from "../../../../src/hub/apiserver/object-store.js";
import { ResourceRegistry } from "../../../../src/hub/apiserver/registry.js";
import { SqliteBackend } from "../../../../src/hub/store/index.js";
import { startHub } from "../../../helpers/hub.js";

const WAIT = { timeout: 20_000, interval: 20 };

describe("hub stop with API requests in flight", () => {
  const cleanup: Array<() => void> = [];
  afterAll(() => {
    for (const c of cleanup.reverse()) c();
  });

  it("answers a create whose body arrives after stop() was called, and keeps the object", async () => {
    const h = await startHub();
    let stopped = false;
    cleanup.push(() => {
      if (!stopped) void h.stop({ keepData: true });
      rmSync(h.dataDir, { recursive: true, force: true });
    });
    const { port } = new URL(h.hub.url);
    const name = `drain-${process.pid}-${Date.now()}`;
    const body = JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { k: "v" },
    });
    const half = Math.floor(body.length / 2);

    const socket = connect({ host: "127.0.0.1", port: Number(port), rejectUnauthorized: false });
    cleanup.push(() => socket.destroy());
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      reply += d;
    });
    const ended = new Promise<void>((r) => socket.once("close", () => r()));
    await new Promise<void>((r) => socket.once("secureConnect", () => r()));
    socket.write(
      "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Authorization: Bearer ${h.hub.adminToken}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`,
    );
    await vi.waitFor(() => expect(h.hub.apiRequestsInFlight).toBe(1), WAIT);

    // stop first, then the rest of the body: the request must still be answered
    const stopping = h.stop({ keepData: true }).then(() => {
      stopped = true;
    });
    socket.write(body.slice(half));
    await ended;
    await stopping;

    expect(reply).toMatch(/^HTTP\/1\.1 201 /);
    const backend = new SqliteBackend({ path: join(h.dataDir, "state.db"), compactIntervalMs: 0 });
    await backend.start();
    try {
      const info = new ResourceRegistry(builtinResources()).byKind("", "ConfigMap")!;
      const stored = await new ObjectStore({ backend }).get(info, "default", name);
      expect(stored?.data).toEqual({ k: "v" });
    } finally {
      await backend.stop();
    }
  });

  it("does not count an open watch among the requests a stop waits for", async () => {
    const h = await startHub();
    let stopped = false;
    cleanup.push(() => {
      if (!stopped) void h.stop();
    });
    const { port } = new URL(h.hub.url);
    let watchEnded!: () => void;
    const ended = new Promise<void>((r) => {
      watchEnded = r;
    });
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: Number(port),
          path: "/api/v1/namespaces/default/configmaps?watch=true",
          headers: { authorization: `Bearer ${h.hub.adminToken}` },
          rejectUnauthorized: false,
        },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.on("data", () => {});
          res.on("error", () => watchEnded());
          res.on("close", () => watchEnded());
          resolve();
        },
      );
      req.on("error", (e) => {
        watchEnded();
        reject(e);
      });
      req.end();
    });
    // the watch is open (its headers arrived) and is not a request the stop waits for
    expect(h.hub.apiRequestsInFlight).toBe(0);
    await h.stop();
    stopped = true;
    await ended;
  });
});
