/**
 * bench/api's list client against a real node:https server on loopback: the lists are sent from
 * a process of its own (not this one), with the caller's Accept and bearer token, over one
 * kept-alive connection, timed to the last byte with the whole body counted; another server
 * (a floor) is timed by the same client; a refused list fails with its status, and stop() ends
 * the process.
 */

import { describe, expect, it, onTestFinished } from "vitest";
import { ListClient } from "../../../bench/lib/list-client.js";
import { loopbackHttps } from "../../helpers/loopback-https.js";

interface Seen {
  accept: string | undefined;
  auth: string | undefined;
  port: number;
  path: string | undefined;
}

async function server(body: Buffer): Promise<{ url: string; ca: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const srv = await loopbackHttps("list-client-test", (req, res) => {
    seen.push({
      accept: req.headers.accept,
      auth: req.headers.authorization,
      port: req.socket.remotePort ?? 0,
      path: req.url,
    });
    if (req.url === "/forbidden") {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    // in several writes, as a list is sent
    for (let i = 0; i < body.length; i += 65536) res.write(body.subarray(i, i + 65536));
    res.end();
  });
  return { ...srv, seen };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("ListClient", () => {
  it("times lists from its own process with the caller's headers, on one kept-alive connection", async () => {
    const body = Buffer.from(`{"items":[${Array.from({ length: 3000 }, (_, i) => `{"n":${i}}`).join(",")}]}`);
    const srv = await server(body);
    const client = new ListClient({ url: srv.url, ca: srv.ca, token: "tok-123" });
    onTestFinished(() => client.stop());

    await client.warm();
    const json = await client.list("/api/v1/configmaps");
    const table = await client.list("/api/v1/configmaps", "application/json;as=Table;v=v1;g=meta.k8s.io");

    expect(client.pid).not.toBe(process.pid);
    expect(client.pid).toBeGreaterThan(0);
    for (const r of [json, table]) {
      expect(r.timing.bytes).toBe(body.length);
      expect(r.timing.firstByteMs).toBeGreaterThan(0);
      expect(r.timing.firstByteMs).toBeLessThanOrEqual(r.timing.totalMs);
      expect(r.clientCpuMs).toBeGreaterThanOrEqual(0);
    }
    expect(srv.seen.map((s) => s.path)).toEqual(["/version", "/api/v1/configmaps", "/api/v1/configmaps"]);
    expect(srv.seen.map((s) => s.accept)).toEqual([
      "application/json",
      "application/json",
      "application/json;as=Table;v=v1;g=meta.k8s.io",
    ]);
    expect(new Set(srv.seen.map((s) => s.auth))).toEqual(new Set(["Bearer tok-123"]));
    // the warm-up opened the connection the lists then used
    expect(new Set(srv.seen.map((s) => s.port)).size).toBe(1);
  });

  it("times another server (a floor) through the same client when given its target", async () => {
    const hub = await server(Buffer.from("{}"));
    const floor = await server(Buffer.alloc(200_000, 0x20));
    const client = new ListClient({ url: hub.url, ca: hub.ca, token: "hub-token" });
    onTestFinished(() => client.stop());

    const r = await client.list("/", "application/json", { url: floor.url, ca: floor.ca });
    expect(r.timing.bytes).toBe(200_000);
    expect(hub.seen).toEqual([]);
    // the hub's token is not sent to the floor
    expect(floor.seen.map((s) => s.auth)).toEqual([undefined]);
  });

  it("fails a refused list with its status, and stop() ends the process", async () => {
    const srv = await server(Buffer.from("{}"));
    const client = new ListClient({ url: srv.url, ca: srv.ca });
    onTestFinished(() => client.stop());

    await expect(client.list("/forbidden")).rejects.toThrow("GET /forbidden: HTTP 403");
    // still usable after a failure
    expect((await client.list("/ok")).timing.bytes).toBe(2);
    const pid = client.pid;
    expect(alive(pid)).toBe(true);
    await client.stop();
    expect(alive(pid)).toBe(false);
  });
});
