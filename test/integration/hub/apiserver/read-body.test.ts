/**
 * readBody on a real node:http server over loopback: a body that arrived with the headers
 * (taken in one read) and one that trickles in after them (read as it flows) must come out the
 * same, over-limit bodies are refused either way, and the keep-alive socket serves the next
 * request afterwards.
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isApiError } from "../../../../src/api/errors.js";
import { readBody } from "../../../../src/hub/apiserver/http.js";

const LIMIT = 64;
let server: Server;
let port = 0;
const paths: string[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    // the hub's handler reads the body after an await or two: the parser has pushed it by then
    if (req.url === "/late") await new Promise((r) => setImmediate(r));
    paths.push(req.complete ? "buffered" : "flowing");
    try {
      const body = await readBody(req, LIMIT);
      res.end(`got ${body.length}:${body.toString("utf8")}`);
    } catch (e) {
      res.statusCode = isApiError(e) ? e.code : 500;
      res.end(isApiError(e) ? e.message : String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** sends raw requests on one keep-alive socket, the second part of each after a pause */
function exchange(parts: [string, string][]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let got = "";
    let i = 0;
    const responses = () => got.split("HTTP/1.1 ").length - 1;
    const next = () => {
      const p = parts[i++];
      if (!p) {
        s.end();
        return;
      }
      s.write(p[0]);
      if (p[1]) setTimeout(() => s.write(p[1]), 30);
    };
    s.on("connect", next);
    s.on("data", (d) => {
      got += d.toString("utf8");
      // each complete response (its body ends the chunk) lets the next request go
      if (responses() === i) setTimeout(next, 5);
    });
    s.on("end", () => resolve(got));
    s.on("error", reject);
  });
}

const post = (path: string, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("readBody", () => {
  it("returns a body that came with the headers, then serves the next request on the socket", async () => {
    paths.length = 0;
    const out = await exchange([
      [post("/late", '{"a":1}'), ""],
      [post("/late", "héllo"), ""],
    ]);
    expect(out).toContain('got 7:{"a":1}');
    expect(out).toContain("got 6:héllo");
    expect(paths).toEqual(["buffered", "buffered"]);
  });

  it("returns a body that arrives after the headers", async () => {
    paths.length = 0;
    const head = `POST /now HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n`;
    const out = await exchange([[head, "hello world"]]);
    expect(out).toContain("got 11:hello world");
    expect(paths).toEqual(["flowing"]);
  });

  it("returns an empty body and keeps the socket usable", async () => {
    const out = await exchange([
      [post("/late", ""), ""],
      [post("/late", "x"), ""],
    ]);
    expect(out).toContain("got 0:");
    expect(out).toContain("got 1:x");
  });

  it("refuses a buffered body over the limit when it is chunked (no Content-Length to refuse early)", async () => {
    const big = "y".repeat(LIMIT + 1);
    const chunked =
      `POST /late HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
    const out = await exchange([[chunked, ""]]);
    expect(out).toMatch(/^HTTP\/1.1 413/);
    expect(out).toContain(`larger than the ${LIMIT} byte limit`);
  });
});
