/**
 * ServiceHealthServer over real sockets on loopback: a listener per healthCheckNodePort
 * answering kube-proxy's reply with the latest synced counts, closed when its Service goes, a
 * port held by another program reported and retried on the next sync, everything closed by stop().
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceHealthServer } from "../../src/lb/health-server.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path = "/"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** a port free on loopback right now (the OS picks it) */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("ServiceHealthServer", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("answers per port with the latest counts, closes ports whose Service left, and stop() closes all", async () => {
    const hs = new ServiceHealthServer({ addresses: ["127.0.0.1"] });
    cleanup.push(() => hs.stop());
    await hs.start();
    const [p1, p2] = [await freePort(), await freePort()];
    expect(
      await hs.sync([
        { namespace: "default", name: "web", port: p1, localEndpoints: 2 },
        { namespace: "shop", name: "cart", port: p2, localEndpoints: 0 },
      ]),
    ).toEqual([]);
    const ok = await get(p1, "/anything");
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toBe("application/json");
    expect(ok.headers["x-content-type-options"]).toBe("nosniff");
    expect(JSON.parse(ok.body)).toEqual({
      service: { namespace: "default", name: "web" },
      localEndpoints: 2,
      serviceProxyHealthy: true,
    });
    const none = await get(p2);
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body)).toMatchObject({
      service: { namespace: "shop", name: "cart" },
      localEndpoints: 0,
    });

    // web loses its endpoints, cart goes away
    await hs.sync([{ namespace: "default", name: "web", port: p1, localEndpoints: 0 }]);
    expect((await get(p1)).status).toBe(503);
    await expect(get(p2)).rejects.toThrow(/ECONNREFUSED/);
    expect(hs.ports()).toEqual([p1]);

    // the proxy failing to program its rules turns every answer to 503
    await hs.sync([{ namespace: "default", name: "web", port: p1, localEndpoints: 1 }]);
    expect((await get(p1)).status).toBe(200);
    hs.setProxyHealthy(false);
    const sick = await get(p1);
    expect(sick.status).toBe(503);
    expect(JSON.parse(sick.body)).toMatchObject({ serviceProxyHealthy: false });

    await hs.stop();
    await expect(get(p1)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("reports a port another program holds and takes it on a later sync once free", async () => {
    const squatter: Server = createServer((_req, res) => res.end("not ours"));
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    const port = (squatter.address() as AddressInfo).port;
    let squatting = true;
    cleanup.push(async () => {
      if (squatting) await new Promise<void>((r) => squatter.close(() => r()));
    });
    const hs = new ServiceHealthServer({ addresses: ["127.0.0.1"] });
    cleanup.push(() => hs.stop());
    await hs.start();
    const target = { namespace: "default", name: "web", port, localEndpoints: 1 };
    const failed = await hs.sync([target]);
    expect(failed.map((f) => f.port)).toEqual([port]);
    expect(failed[0]?.error).toMatch(/EADDRINUSE/);
    expect(hs.ports()).toEqual([]);
    await new Promise<void>((r) => squatter.close(() => r()));
    squatting = false;
    expect(await hs.sync([target])).toEqual([]);
    expect((await get(port)).status).toBe(200);
  });
});
