/**
 * Keeps what the MQTT port writes during a full TLS handshake inside Node's first 1 KB TLS
 * write buffer, so that a connection that made a full handshake costs the hub what a resumed
 * one does (issue 4: hub RSS at 5,000 nodes).
 *
 * Design notes
 * - Node's TLSWrap queues outgoing TLS records in a ring of buffers (crypto_bio.cc): the first
 *   is 1 KB, the next 16 KB, and the ring keeps two buffers for the life of the socket. Any
 *   burst over 1 KB that TLS writes before Node flushes it allocates the 16 KB buffer for
 *   good. Measured on a bare node:tls server with 2,000 mTLS clients (docs/hub-memory.md): a
 *   full handshake wrote a 1,259-byte flight (ServerHello … Finished, with the cluster CA
 *   appended to the hub's certificate) and then two 703-byte session tickets in one burst
 *   (each ticket carries the client certificate); a resumed one wrote 241 bytes. Main-heap
 *   malloc per connection: 48 KB full, 30 KB resumed.
 * - The CA in the flight: OpenSSL appends the issuer chain it can build from the context's
 *   trust store to the server certificate ("auto chain"), and Node cannot switch that off.
 *   The agents already hold the CA (pinned at join), so the MQTT context gets an empty trust
 *   store (`ca: []`) and ClientCertVerifier checks client certificates against the CA in
 *   JavaScript instead: issuer, signature, validity window, clientAuth usage: what OpenSSL's
 *   verification checked for our one-level chain. The flight is then 854 bytes. Every
 *   connection is checked, resumed ones too: a ticket made by an older hub may carry a
 *   certificate that was never valid. The signature (X509Certificate.verify, ≈ 70 µs of ECDSA)
 *   is checked once per certificate and remembered by its SHA-256 fingerprint.
 * - Two tickets: OpenSSL sends two after a full TLS 1.3 handshake and Node has no
 *   `num_tickets` option. Node's SecureContext has an (undocumented, stable since Node 4)
 *   ticket-key callback, `enableTicketKeyCallback()` + `onticketkeycallback`, that OpenSSL asks
 *   for the key of every ticket it makes; answering 0 makes it skip that ticket (OpenSSL 3.0:
 *   "0 to abort construction of the ticket"). SingleTicketIssuer answers with the key for the
 *   first ticket after a handshake the broker accepted and 0 for the rest, so a full handshake
 *   sends one ticket and a connection with a refused certificate gets none. The ticket format is
 *   Node's own for `ticketKeys` (16 name + 16 HMAC-SHA256 + 16 AES-128-CBC key bytes), so
 *   tickets made before this change, or by a Node without the callback, stay valid.
 * - With both: 34 KB of malloc per full-handshake connection instead of 48 (resumed: 30).
 * - The budget is one variable, not per connection: OpenSSL reports the handshake as done (the
 *   'secureConnection' event, synchronously) and then writes that connection's tickets within
 *   the same native call, before any other socket is served. Should that ever change, the
 *   failure is benign: a ticket not issued means one more full handshake, never a ticket for a
 *   connection the broker refused (grant(false) zeroes the budget).
 */
import { randomBytes, X509Certificate } from "node:crypto";
import type { Server, TLSSocket } from "node:tls";
import type { CertIdentity } from "./broker-auth.js";

const CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
const KEY_PART = 16;

/** certificates whose CA signature was checked, remembered by SHA-256 (see ClientCertVerifier) */
const SIGNED_CACHE = 16_384;

/**
 * Checks client certificates against the cluster CA (see the design notes). The signature
 * check — the one costly step, ≈ 70 µs of ECDSA here, ≈ 5 % of the hub's CPU per reconnect —
 * is done once per certificate: a certificate whose SHA-256 fingerprint was seen signed by
 * this CA is the same bytes, so the same signature. The validity window and usage are read on
 * every connection. The memory is bounded (the oldest entries go first); a fleet's renewed
 * certificates simply take new entries.
 */
export class ClientCertVerifier {
  private readonly ca: X509Certificate;
  private readonly signed = new Set<string>();

  constructor(
    caPem: string,
    private readonly now: () => number = Date.now,
    private readonly cacheSize = SIGNED_CACHE,
  ) {
    this.ca = new X509Certificate(caPem);
  }

  /** The peer's identity; undefined without a certificate; "invalid" when it fails the checks. */
  verify(socket: TLSSocket): CertIdentity | "invalid" | undefined {
    const cert = socket.getPeerX509Certificate();
    if (!cert) return undefined;
    return this.valid(cert) ? subjectIdentity(cert.subject) : "invalid";
  }

  /** Issued and signed by the CA, inside its validity window, usable for client auth. */
  valid(cert: X509Certificate): boolean {
    const now = this.now();
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) return false;
    // no extended key usage means any usage (RFC 5280), as OpenSSL's purpose check has it
    const eku = cert.keyUsage;
    if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID)) return false;
    if (!cert.checkIssued(this.ca)) return false;
    const fp = cert.fingerprint256;
    if (this.signed.has(fp)) return true;
    if (!cert.verify(this.ca.publicKey)) return false;
    if (this.signed.size >= this.cacheSize) {
      const oldest = this.signed.values().next().value;
      if (oldest !== undefined) this.signed.delete(oldest);
    }
    this.signed.add(fp);
    return true;
  }

  /** certificates remembered as signed by the CA (tests) */
  get rememberedSignatures(): number {
    return this.signed.size;
  }
}

/** CN and O values from X509Certificate.subject ("CN=a\nO=b\nO=c"). */
export function subjectIdentity(subject: string): CertIdentity {
  let commonName = "";
  const organizations: string[] = [];
  for (const line of subject.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === "CN" && commonName === "") commonName = value;
    else if (key === "O") organizations.push(value);
  }
  return { commonName, organizations };
}

/** Node's native SecureContext, the part used here (not in @types/node). */
interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, enc: boolean) => unknown[];
}

/** One session ticket per accepted handshake, none for refused ones (see the design notes). */
export class SingleTicketIssuer {
  private name: Buffer;
  private hmac: Buffer;
  private aes: Buffer;
  private budget = 0;
  /** tickets made and skipped, for tests and the bench */
  readonly stats = { issued: 0, skipped: 0 };

  constructor(key: Buffer) {
    this.name = key;
    this.hmac = key;
    this.aes = key;
    this.setKey(key);
  }

  /** The 48-byte key (name, HMAC, AES) as Node's `ticketKeys` takes it. */
  setKey(key: Buffer): void {
    if (key.length !== 3 * KEY_PART) throw new Error(`TLS ticket keys must be 48 bytes (got ${key.length})`);
    const copy = Buffer.from(key);
    this.name = copy.subarray(0, KEY_PART);
    this.hmac = copy.subarray(KEY_PART, 2 * KEY_PART);
    this.aes = copy.subarray(2 * KEY_PART);
  }

  /**
   * Takes over ticket keys on `server`'s context. False when this Node has no ticket-key
   * callback: the server then keeps Node's own ticket handling (two tickets per handshake).
   */
  install(server: Server): boolean {
    const ctx = (server as unknown as { _sharedCreds?: { context?: NativeContext } })._sharedCreds?.context;
    if (typeof ctx?.enableTicketKeyCallback !== "function") return false;
    ctx.enableTicketKeyCallback();
    ctx.onticketkeycallback = (name, iv, enc) => this.ticketKey(name, iv, enc);
    return true;
  }

  /** Called from 'secureConnection': whether the handshake that just completed gets a ticket. */
  grant(allowed: boolean): void {
    this.budget = allowed ? 1 : 0;
  }

  /**
   * OpenSSL's question, through Node: [result, hmacKey, aesKey, name?, iv?]. Encrypting: 1 =
   * make the ticket, 0 = skip it. Decrypting: 1 = the ticket is ours, 0 = unknown key (full
   * handshake). Node wants valid key buffers even for 0.
   */
  ticketKey(name: Buffer, _iv: Buffer, enc: boolean): unknown[] {
    if (!enc) return [name.equals(this.name) ? 1 : 0, this.hmac, this.aes];
    const iv = randomBytes(KEY_PART);
    if (this.budget <= 0) {
      this.stats.skipped++;
      return [0, this.hmac, this.aes, this.name, iv];
    }
    this.budget--;
    this.stats.issued++;
    return [1, this.hmac, this.aes, this.name, iv];
  }
}
