/**
 * The fast DNS codec against dns2's general one: what one encodes, the other decodes.
 */
import dns2 from "dns2";
import { describe, expect, it } from "vitest";
import type { WireRecord } from "../../src/dns/forwarder.js";
import { encodeResponse, parseQuery } from "../../src/dns/wire.js";

function query(name: string, type: number): Buffer {
  const p = new dns2.Packet();
  p.header.id = 4242;
  p.header.rd = 1;
  p.questions.push({ name, type, class: 1 } as never);
  return p.toBuffer();
}

interface Parsed {
  header: { id: number; qr: number; aa: number; tc: number; rcode: number };
  answers: WireRecord[];
  authorities: WireRecord[];
}

describe("wire codec", () => {
  it("parses a one-question query", () => {
    expect(parseQuery(query("Web.default.svc.cluster.local", 33))).toMatchObject({
      id: 4242,
      rd: true,
      name: "Web.default.svc.cluster.local",
      type: 33,
      cls: 1,
      maxUdp: 512,
    });
    expect(parseQuery(Buffer.from([1, 2, 3]))).toBeUndefined();
  });

  it("encodes A, AAAA, SRV, PTR and SOA records dns2 can read back", () => {
    const q = parseQuery(query("web.default.svc.cluster.local", 1))!;
    const rec = (type: number, fields: Record<string, unknown>, name = q.name): WireRecord => ({
      name,
      type,
      class: 1,
      ttl: 5,
      ...fields,
    });
    const buf = encodeResponse(q, {
      aa: true,
      ra: false,
      rcode: 0,
      answers: [
        rec(1, { address: "10.43.0.20" }),
        rec(28, { address: "2001:db8::1" }),
        rec(
          33,
          { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" },
          "_http._tcp.web",
        ),
        rec(12, { domain: "web.default.svc.cluster.local" }, "20.0.43.10.in-addr.arpa"),
      ],
      authorities: [
        rec(6, {
          primary: "ns.dns.cluster.local",
          admin: "hostmaster.cluster.local",
          serial: 1,
          refresh: 2,
          retry: 3,
          expiration: 4,
          minimum: 5,
        }),
      ],
      additionals: [],
    })!;
    const p = dns2.Packet.parse(buf) as unknown as Parsed;
    expect(p.header).toMatchObject({ id: 4242, qr: 1, aa: 1, tc: 0, rcode: 0 });
    expect(p.answers.map((a) => a.address ?? a.domain ?? `${a.port} ${a.target}`)).toEqual([
      "10.43.0.20",
      "2001:db8::1",
      "80 web.default.svc.cluster.local",
      "web.default.svc.cluster.local",
    ]);
    expect(p.answers[0]?.name).toBe("web.default.svc.cluster.local");
    expect(p.authorities[0]).toMatchObject({ primary: "ns.dns.cluster.local", minimum: 5 });
  });

  it("sets TC and drops the records when the answer does not fit", () => {
    const q = parseQuery(query("big.default.svc.cluster.local", 1))!;
    const answers = Array.from(
      { length: 40 },
      (_, i): WireRecord => ({ name: q.name, type: 1, class: 1, ttl: 5, address: `10.42.0.${i}` }),
    );
    const p = dns2.Packet.parse(
      encodeResponse(q, { aa: true, ra: false, rcode: 0, answers, authorities: [], additionals: [] })!,
    ) as unknown as Parsed;
    expect(p.header.tc).toBe(1);
    expect(p.answers).toEqual([]);
  });

  it("declines record types it does not know, so the caller can use dns2's codec", () => {
    const q = parseQuery(query("x.test", 16))!;
    const txt: WireRecord = { name: "x.test", type: 16, class: 1, ttl: 5, data: "hi" };
    expect(
      encodeResponse(q, { aa: false, ra: true, rcode: 0, answers: [txt], authorities: [], additionals: [] }),
    ).toBeUndefined();
  });
});
