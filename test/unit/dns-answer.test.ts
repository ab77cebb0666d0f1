/**
 * Cluster DNS logic without sockets: name parsing, answers from an index, the forwarder cache.
 */
import { describe, expect, it } from "vitest";
import { answerQuestion, type RecordType } from "../../src/dns/answer.js";
import { buildIndex } from "../../src/dns/cluster-index.js";
import { Forwarder } from "../../src/dns/forwarder.js";
import { parseName, reverseName } from "../../src/dns/names.js";
import { service, slice } from "../helpers/services-fixtures.js";

describe("parseName", () => {
  const cases: [string, ReturnType<typeof parseName>["kind"], Record<string, string>?][] = [
    ["web.default.svc.cluster.local.", "service", { service: "web", namespace: "default" }],
    ["WEB.Default.SVC.cluster.local", "service", { service: "web", namespace: "default" }],
    ["db-0.db.prod.svc.cluster.local", "endpoint", { host: "db-0", service: "db", namespace: "prod" }],
    ["_http._tcp.web.default.svc.cluster.local", "srv", { port: "http", protocol: "tcp", service: "web" }],
    ["10-42-1-5.default.pod.cluster.local", "pod", { ip: "10.42.1.5", namespace: "default" }],
    ["default.svc.cluster.local", "namespace", { namespace: "default" }],
    ["svc.cluster.local", "apex"],
    ["cluster.local", "apex"],
    ["example.com.default.svc.cluster.local", "endpoint", { host: "example", service: "com" }],
    ["a.b.c.d.e.svc.cluster.local", "invalid"],
    ["example.com", "outside"],
    ["5.1.42.10.in-addr.arpa", "reverse", { ip: "10.42.1.5" }],
    ["1.42.10.in-addr.arpa", "outside"],
  ];
  for (const [name, kind, fields] of cases) {
    it(`${name} → ${kind}`, () => {
      const n = parseName(name);
      expect(n.kind).toBe(kind);
      if (fields) expect(n).toMatchObject(fields);
    });
  }
  it("builds reverse names", () => expect(reverseName("10.43.0.10")).toBe("10.0.43.10.in-addr.arpa"));
});

describe("answerQuestion", () => {
  const services = [
    service("web", "10.43.0.20", { ports: [{ name: "http", port: 80 }] }),
    service("db", "None", { ports: [{ name: "pg", port: 5432 }] }),
    service("empty", "None"),
    service("ext", "", { type: "ExternalName", externalName: "Example.test." }),
  ];
  const slices = [
    slice(
      "db",
      [{ ip: "10.42.1.5", hostname: "db-0" }, { ip: "10.42.2.6" }, { ip: "10.42.2.7", ready: false }],
      [{ name: "pg", port: 5432 }],
    ),
  ];
  const index = buildIndex({ services: () => services, endpointSlices: () => slices }, "cluster.local");
  const o = { zone: "cluster.local", ttl: 5, reverseCIDRs: ["10.42.0.0/16", "10.43.0.0/16"] };
  const ask = (name: string, type: RecordType = "A") => answerQuestion(index, name, type, o);
  const addrs = (name: string, type: RecordType = "A") => {
    const a = ask(name, type);
    return a.kind === "local"
      ? {
          rcode: a.rcode,
          data: a.answers.map((r) =>
            "address" in r
              ? r.address
              : "domain" in r
                ? r.domain
                : r.type === "SRV"
                  ? `${r.port} ${r.target}`
                  : "",
          ),
        }
      : a.kind;
  };

  it("A records for ClusterIP and headless services", () => {
    expect(addrs("web.default.svc.cluster.local")).toEqual({ rcode: "NOERROR", data: ["10.43.0.20"] });
    expect(addrs("db.default.svc.cluster.local")).toEqual({
      rcode: "NOERROR",
      data: ["10.42.1.5", "10.42.2.6"],
    });
    expect(addrs("db-0.db.default.svc.cluster.local")).toEqual({ rcode: "NOERROR", data: ["10.42.1.5"] });
    expect(addrs("10-42-2-6.db.default.svc.cluster.local")).toEqual({
      rcode: "NOERROR",
      data: ["10.42.2.6"],
    });
  });

  it("NXDOMAIN for unknown names and headless services without endpoints, with the zone SOA", () => {
    const a = ask("nope.default.svc.cluster.local");
    expect(a).toMatchObject({
      kind: "local",
      rcode: "NXDOMAIN",
      answers: [],
      authority: [{ type: "SOA", minimum: 5 }],
    });
    expect(addrs("empty.default.svc.cluster.local")).toMatchObject({ rcode: "NXDOMAIN" });
    expect(addrs("web.other.svc.cluster.local")).toMatchObject({ rcode: "NXDOMAIN" });
    expect(addrs("other.svc.cluster.local")).toMatchObject({ rcode: "NXDOMAIN" });
    // a search-path expansion of an outside name fails locally, without an upstream round trip
    expect(addrs("example.com.default.svc.cluster.local")).toMatchObject({ rcode: "NXDOMAIN" });
    expect(addrs("default.svc.cluster.local")).toEqual({ rcode: "NOERROR", data: [] });
  });

  it("AAAA and TXT on existing names are empty NOERROR", () => {
    expect(addrs("web.default.svc.cluster.local", "AAAA")).toEqual({ rcode: "NOERROR", data: [] });
    expect(addrs("db-0.db.default.svc.cluster.local", "TXT")).toEqual({ rcode: "NOERROR", data: [] });
  });

  it("SRV for ClusterIP and headless services with additional A records", () => {
    expect(addrs("_http._tcp.web.default.svc.cluster.local", "SRV")).toEqual({
      rcode: "NOERROR",
      data: ["80 web.default.svc.cluster.local"],
    });
    const a = ask("_pg._tcp.db.default.svc.cluster.local", "SRV");
    expect(a.kind === "local" && a.additionals.map((r) => r.name)).toEqual([
      "db-0.db.default.svc.cluster.local",
      "10-42-2-6.db.default.svc.cluster.local",
    ]);
    expect(addrs("_nope._tcp.web.default.svc.cluster.local", "SRV")).toMatchObject({ rcode: "NXDOMAIN" });
  });

  it("PTR for service and endpoint IPs; unknown cluster IPs NXDOMAIN; others forwarded", () => {
    expect(addrs(reverseName("10.43.0.20"), "PTR")).toEqual({
      rcode: "NOERROR",
      data: ["web.default.svc.cluster.local"],
    });
    expect(addrs(reverseName("10.42.1.5"), "PTR")).toEqual({
      rcode: "NOERROR",
      data: ["db-0.db.default.svc.cluster.local"],
    });
    expect(addrs(reverseName("10.43.9.9"), "PTR")).toMatchObject({ rcode: "NXDOMAIN" });
    expect(ask(reverseName("192.0.2.1"), "PTR")).toEqual({ kind: "forward" });
  });

  it("ExternalName → CNAME to be chased; outside names are forwarded", () => {
    expect(ask("ext.default.svc.cluster.local")).toMatchObject({ kind: "cname", target: "example.test" });
    expect(ask("example.com")).toEqual({ kind: "forward" });
  });

  it("isEndpointLive hides endpoints whose pods are gone", () => {
    const idx = buildIndex(
      { services: () => services, endpointSlices: () => slices },
      "cluster.local",
      (ep) => ep.addresses[0] !== "10.42.2.6",
    );
    const a = answerQuestion(idx, "db.default.svc.cluster.local", "A", o);
    expect(a.kind === "local" && a.answers.map((r) => r.type === "A" && r.address)).toEqual(["10.42.1.5"]);
  });
});

describe("Forwarder cache", () => {
  it("caches by TTL, counts TTLs down, shares concurrent queries and tries the next upstream", async () => {
    let now = 1_000_000;
    const asked: string[] = [];
    const f = new Forwarder({
      upstreams: [
        { address: "127.0.0.1", port: 1 },
        { address: "127.0.0.1", port: 2 },
      ],
      now: () => now,
      query: async (u, name) => {
        asked.push(`${u.port}:${name}`);
        if (u.port === 1) throw new Error("timeout");
        return {
          rcode: 0,
          answers: [{ name, type: 1, class: 1, ttl: 10, address: "192.0.2.1" }],
          authorities: [],
        };
      },
    });
    const [a, b] = await Promise.all([f.resolve("x.test", "A"), f.resolve("x.test", "A")]);
    expect(a).toEqual(b);
    expect(asked).toEqual(["1:x.test", "2:x.test"]);
    now += 4000;
    expect((await f.resolve("x.test", "A")).answers[0]?.ttl).toBe(6);
    now += 7000;
    await f.resolve("x.test", "A");
    expect(asked).toHaveLength(4);
  });

  it("says which upstreams failed", async () => {
    const f = new Forwarder({
      upstreams: [{ address: "127.0.0.1", port: 9 }],
      query: () => Promise.reject(new Error("x")),
    });
    await expect(f.resolve("y.test", "A")).rejects.toThrow(
      "no upstream resolver answered for y.test (tried 127.0.0.1:9)",
    );
  });
});
