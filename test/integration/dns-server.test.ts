/**
 * The cluster DNS server for real: dns2 UDP/TCP sockets on 127.0.0.1 (random ports), queried by
 * node:dns's Resolver (c-ares), dns2's TCP client and busybox nslookup; names outside the
 * cluster go to a fake upstream dns2 server on 127.0.0.1 (never a real resolver).
 */
import { execFile } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { promisify } from "node:util";
import dns2 from "dns2";
import type { Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterDns } from "../../src/dns/cluster-dns.js";
import { service, slice } from "../helpers/services-fixtures.js";

const run = promisify(execFile);

describe("ClusterDns on real sockets", () => {
  let services: Service[] = [];
  let slices: EndpointSlice[] = [];
  let pods: Pod[] = [];
  let rev = 0;
  let live = new Set<string>();
  let upstreamHits = 0;
  const upstream = dns2.createServer({
    udp: true,
    handle: (req, send) => {
      upstreamHits++;
      const res = dns2.Packet.createResponseFromRequest(req);
      const q = req.questions[0] as { name: string; type: number };
      if (q.name === "example.test" && q.type === dns2.Packet.TYPE.A) {
        const a = { name: q.name, type: dns2.Packet.TYPE.A, class: 1, ttl: 60, address: "192.0.2.7" };
        (res.answers as unknown[]).push(a);
      }
      send(res);
    },
  });
  let server: ClusterDns;
  let resolver: Resolver;
  let port = 0;

  beforeAll(async () => {
    await upstream.listen({ udp: { port: 0, address: "127.0.0.1" } });
    const up = upstream.addresses().udp!.port;
    services = [
      service("web", "10.43.0.20", {
        ports: [
          { name: "http", port: 80, protocol: "TCP" },
          { name: "dns", port: 53, protocol: "UDP" },
        ],
      }),
      service("db", "None", { ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }),
      service("ext", "", { type: "ExternalName", externalName: "example.test" }),
    ];
    slices = [
      slice(
        "db",
        [
          { ip: "10.42.1.5", hostname: "db-0", node: "n1" },
          { ip: "10.42.2.6", hostname: "db-1", node: "n2" },
          { ip: "10.42.2.7", hostname: "db-2", node: "n2", ready: false },
        ],
        [{ name: "pg", port: 5432 }],
      ),
    ];
    pods = [
      {
        metadata: { name: "p", namespace: "default" },
        spec: { containers: [] },
        status: { podIP: "10.42.1.9" },
      },
    ];
    live = new Set(["10.42.1.5", "10.42.2.6", "10.42.2.7"]);
    server = new ClusterDns(
      { address: "127.0.0.1", port: 0, upstreams: [{ address: "127.0.0.1", port: up }] },
      {
        source: {
          services: () => services,
          endpointSlices: () => slices,
          pods: () => pods,
          revision: () => rev,
        },
        isEndpointLive: (ep) => live.has(ep.addresses[0] ?? ""),
      },
    );
    await server.start();
    port = server.ports().udp!;
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    await server?.stop();
    await upstream.close();
  });

  it("answers a service's ClusterIP, with and without the trailing dot", async () => {
    expect(await resolver.resolve4("web.default.svc.cluster.local")).toEqual(["10.43.0.20"]);
    expect(await resolver.resolve4("WEB.default.svc.cluster.local.")).toEqual(["10.43.0.20"]);
  });

  it("answers headless services with ready, live endpoints and StatefulSet hostnames", async () => {
    expect((await resolver.resolve4("db.default.svc.cluster.local")).sort()).toEqual([
      "10.42.1.5",
      "10.42.2.6",
    ]);
    expect(await resolver.resolve4("db-1.db.default.svc.cluster.local")).toEqual(["10.42.2.6"]);
    await expect(resolver.resolve4("db-2.db.default.svc.cluster.local")).rejects.toMatchObject({
      code: "ENOTFOUND",
    });
  });

  it("stops serving an endpoint whose pod is not running (stale slice after an offline reboot)", async () => {
    live.delete("10.42.2.6");
    rev++;
    expect(await resolver.resolve4("db.default.svc.cluster.local")).toEqual(["10.42.1.5"]);
    live.add("10.42.2.6");
    rev++;
  });

  it("answers SRV for named ports, PTR for service and pod IPs", async () => {
    expect(await resolver.resolveSrv("_http._tcp.web.default.svc.cluster.local")).toEqual([
      { name: "web.default.svc.cluster.local", port: 80, priority: 0, weight: 100 },
    ]);
    const pg = await resolver.resolveSrv("_pg._tcp.db.default.svc.cluster.local");
    expect(pg.map((s) => s.name).sort()).toEqual([
      "db-0.db.default.svc.cluster.local",
      "db-1.db.default.svc.cluster.local",
    ]);
    expect(await resolver.reverse("10.43.0.20")).toEqual(["web.default.svc.cluster.local"]);
    expect(await resolver.reverse("10.42.1.9")).toEqual(["10-42-1-9.default.pod.cluster.local"]);
    expect(await resolver.reverse("10.42.1.5")).toEqual(["db-0.db.default.svc.cluster.local"]);
  });

  it("gives NXDOMAIN inside the zone, empty NOERROR for AAAA, CNAME for ExternalName", async () => {
    await expect(resolver.resolve4("nope.default.svc.cluster.local")).rejects.toMatchObject({
      code: "ENOTFOUND",
    });
    await expect(resolver.resolve6("web.default.svc.cluster.local")).rejects.toMatchObject({
      code: "ENODATA",
    });
    expect(await resolver.resolveCname("ext.default.svc.cluster.local")).toEqual(["example.test"]);
    expect(await resolver.resolve4("ext.default.svc.cluster.local")).toEqual(["192.0.2.7"]);
  });

  it("forwards other names upstream and caches the answer", async () => {
    server.forwarder.clear();
    const before = upstreamHits;
    expect(await resolver.resolve4("example.test")).toEqual(["192.0.2.7"]);
    expect(await resolver.resolve4("example.test")).toEqual(["192.0.2.7"]);
    expect(upstreamHits - before).toBe(1);
  });

  it("answers over TCP", async () => {
    const tcp = dns2.TCPClient({ dns: "127.0.0.1", port: server.ports().tcp! });
    const res = await tcp("web.default.svc.cluster.local", "A");
    expect(res.answers.map((a) => a.address)).toEqual(["10.43.0.20"]);
  });

  it("answers busybox nslookup", async () => {
    const r = await run(
      "busybox",
      ["nslookup", "-port=" + port, "web.default.svc.cluster.local", "127.0.0.1"],
      {
        timeout: 10_000,
      },
    ).catch((err: { stdout?: string; stderr?: string }) => ({
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? "",
    }));
    expect(r.stdout).toContain("10.43.0.20");
  });
});
