/**
 * bench/api's load generator against a real node:https server on loopback: every request is
 * answered and counted once, responses are framed by Content-Length and by chunked encoding, a
 * refused request is reported with its Status message, and a connection the server closes
 * mid-request counts that request as an error and is reopened.
 */

import { describe, expect, it } from "vitest";
import { encodeRequests, runRawLoad } from "../../../bench/lib/raw-https-load.js";
import { loopbackHttps } from "../../helpers/loopback-https.js";

async function server(
  handle: Parameters<typeof loopbackHttps>[1],
): Promise<{ url: string; ca: string; seen: () => number }> {
  let seen = 0;
  const srv = await loopbackHttps("raw-load-test", (req, res) => {
    seen++;
    handle?.(req, res);
  });
  return { ...srv, seen: () => seen };
}

describe("runRawLoad", () => {
  it("sends every request once over `concurrency` connections and frames both kinds of replies", async () => {
    const srv = await server((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        // odd requests answer chunked (no Content-Length), in two writes
        if (req.url === "/chunked") {
          res.writeHead(200, { "Content-Type": "application/json" });
          res.write(body.subarray(0, 3));
          setImmediate(() => res.end(body.subarray(3)));
          return;
        }
        res.writeHead(201, { "Content-Type": "application/json", "Content-Length": body.length });
        res.end(body);
      });
    });
    const t = { url: srv.url, ca: srv.ca, token: "t0k" };
    const reqs = encodeRequests(t, 200, (i) => ({
      method: "POST",
      path: i % 2 ? "/chunked" : "/",
      body: JSON.stringify({ i, pad: "x".repeat(i * 50) }),
    }));
    const lat: number[] = [];
    const r = await runRawLoad(t, reqs, 8, lat);
    expect(r.errors).toBe(0);
    expect(r.ops).toBe(200);
    expect(lat).toHaveLength(200);
    expect(srv.seen()).toBe(200);
  });

  it("reports refused requests by status, method and Status message", async () => {
    const srv = await server((req, res) => {
      req.resume();
      req.on("end", () => {
        const body = JSON.stringify({
          kind: "Status",
          code: 409,
          message: 'configmaps "cm-17" already exists',
        });
        res.writeHead(409, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
        res.end(body);
      });
    });
    const t = { url: srv.url, ca: srv.ca };
    const r = await runRawLoad(
      t,
      encodeRequests(t, 5, () => ({ method: "POST", path: "/", body: "{}" })),
      2,
    );
    expect(r.errors).toBe(5);
    expect(r.failures).toEqual({ '409 POST: configmaps "cm-N" already exists': 5 });
  });

  it("counts a request whose connection the server closed, and goes on on a new one", async () => {
    let n = 0;
    const srv = await server((req, res) => {
      req.resume();
      // the third request's connection is cut before its reply
      if (++n === 3) {
        req.socket.destroy();
        return;
      }
      req.on("end", () => res.end("{}"));
    });
    const t = { url: srv.url, ca: srv.ca };
    const r = await runRawLoad(
      t,
      encodeRequests(t, 10, () => ({ method: "GET", path: "/" })),
      1,
    );
    expect(r.errors).toBe(1);
    expect(r.failures).toEqual({ ECONNRESET: 1 });
    expect(srv.seen()).toBe(10);
  });
});
