/**
 * Cluster PKI: one self-signed CA (ECDSA P-256, ten years) that signs the hub's serving
 * certificate, the admin client certificate and the MQTT client certificate of each node that
 * joins with `--client-cert` (from the CSR it sends at join: createCSR on the device, readCSR +
 * signCSR on the hub; by default nodes get a password instead, src/hub/edge/node-passwords.ts).
 *
 * Design notes
 * - ECDSA P-256 through WebCrypto: key generation is ~1 ms (RSA-2048 in JS is seconds on a Pi).
 *   Signatures, verifications and digests run synchronously on the main thread
 *   (sync-subtle.ts): as threadpool jobs they left malloc arenas behind in the hub after a
 *   join storm (issue 4). The hub's own calls below (importKey, signing) go through x509's
 *   provider or are synchronous in Node already.
 * - Kubernetes identity lives in the subject: CN = user name, O = groups (client certs).
 * - `caHash` pins the CA the way kubeadm/k3s join tokens do: sha256 over the CA certificate's
 *   DER bytes, so an agent can verify the CA it downloads before trusting anything else.
 */
import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

import { syncCrypto } from "./sync-subtle.js";

export { caHash } from "./ca-hash.js";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// ECDSA sign/verify and digests on the main thread, not libuv's threadpool (sync-subtle.ts)
x509.cryptoProvider.set(syncCrypto() as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: "ECDSA",
  namedCurve: "P-256",
  hash: "SHA-256",
};
const DAY_MS = 86_400_000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: "server" | "client" | "both";
  days?: number;
  now?: Date;
}

function escapeDnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, "\\$1");
}

function subjectOf(cn: string, orgs: readonly string[] = []): string {
  return [`CN=${escapeDnValue(cn)}`, ...orgs.map((o) => `O=${escapeDnValue(o)}`)].join(", ");
}

function serial(): string {
  // positive 128-bit serial
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString("hex");
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error("no PEM block found in private key");
  return webcrypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
}

export async function createCA(commonName: string, now = new Date()): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subjectOf(commonName),
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

export async function issueCert(ca: KeyPairPem, opts: IssueOptions): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const certPem = await signPublicKey(ca, keys.publicKey, opts);
  return { certPem, keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * The CA's certificate and key, parsed once per KeyPairPem object: a join burst signs with the
 * same CA thousands of times, and parsing it each time was ≈190 KB of garbage per join.
 */
const parsedCAs = new WeakMap<KeyPairPem, Promise<{ caCert: x509.X509Certificate; caKey: CryptoKey }>>();

function parsedCA(ca: KeyPairPem): Promise<{ caCert: x509.X509Certificate; caKey: CryptoKey }> {
  let p = parsedCAs.get(ca);
  if (!p) {
    p = importKeyPem(ca.keyPem).then((caKey) => ({ caCert: new x509.X509Certificate(ca.certPem), caKey }));
    // a failed parse is not cached: the caller sees the error, the next call tries again
    p.catch(() => parsedCAs.delete(ca));
    parsedCAs.set(ca, p);
  }
  return p;
}

/** Signs `publicKey` into a leaf certificate issued by `ca` (shared by issueCert and signCSR). */
async function signPublicKey(
  ca: KeyPairPem,
  publicKey: CryptoKey | x509.PublicKey,
  opts: IssueOptions,
): Promise<string> {
  const now = opts.now ?? new Date();
  const { caCert, caKey } = await parsedCA(ca);
  const eku: string[] = [];
  if (opts.usage !== "client") eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.usage !== "server") eku.push(x509.ExtendedKeyUsage.clientAuth);
  const altNames: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(eku, false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subjectOf(opts.commonName, opts.organizations),
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (opts.days ?? 3650) * DAY_MS),
    signingAlgorithm: ALG,
    publicKey,
    signingKey: caKey,
    extensions,
  });
  return cert.toString("pem");
}

export interface CsrPem {
  csrPem: string;
  keyPem: string;
}

/**
 * A fresh key pair and a PKCS#10 request for it (what a node sends at join): the private key
 * never leaves the device, the hub only signs the public half.
 */
export async function createCSR(commonName: string, organizations: string[] = []): Promise<CsrPem> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectOf(commonName, organizations),
    keys,
    signingAlgorithm: ALG,
  });
  return { csrPem: csr.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

export class CsrError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CsrError";
  }
}

/** A PKCS#10 request whose self-signature was checked: the subject it asks for and its key. */
export interface VerifiedCSR {
  commonName: string;
  organizations: string[];
  publicKey: x509.PublicKey;
}

/**
 * Parses a PEM PKCS#10 request and checks its self-signature (proof that the requester holds
 * the private key); returns the subject it asks for. Throws CsrError saying what is wrong.
 */
export async function readCSR(csrPem: string): Promise<{ commonName: string; organizations: string[] }> {
  const { commonName, organizations } = await verifyCSR(csrPem);
  return { commonName, organizations };
}

/**
 * readCSR plus the request's public key, parsed once: the hub checks the subject and then signs
 * with signVerifiedCSR (parsing and verifying the request again for signing doubled the join's
 * garbage, ≈200 KB per join).
 */
export async function verifyCSR(csrPem: string): Promise<VerifiedCSR> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new CsrError("the certificate signing request is not a PEM PKCS#10 request", { cause: err });
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch (err) {
    throw new CsrError("the certificate signing request uses an unsupported key or algorithm", {
      cause: err,
    });
  }
  if (!ok) throw new CsrError("the certificate signing request's signature does not match its public key");
  return {
    commonName: csr.subjectName.getField("CN")[0] ?? "",
    organizations: csr.subjectName.getField("O"),
    publicKey: csr.publicKey,
  };
}

export interface SignCsrOptions {
  usage: IssueOptions["usage"];
  days?: number;
  now?: Date;
}

/**
 * Signs a CSR with the CA after checking it (verifyCSR). Only the CSR's subject and public key
 * are used: SANs and extensions it asks for are ignored, the hub decides usages and lifetime.
 */
export async function signCSR(ca: KeyPairPem, csrPem: string, opts: SignCsrOptions): Promise<string> {
  return signVerifiedCSR(ca, await verifyCSR(csrPem), opts);
}

/** Signs a request verifyCSR already checked (the join path checks its subject in between). */
export function signVerifiedCSR(ca: KeyPairPem, csr: VerifiedCSR, opts: SignCsrOptions): Promise<string> {
  return signPublicKey(ca, csr.publicKey, {
    commonName: csr.commonName,
    organizations: csr.organizations,
    usage: opts.usage,
    ...(opts.days !== undefined ? { days: opts.days } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/** Subject facts of a PEM certificate (CN and O values), for authenticating client certs. */
export function certIdentity(certPem: string): { commonName: string; organizations: string[] } {
  const cert = new x509.X509Certificate(certPem);
  return {
    commonName: cert.subjectName.getField("CN")[0] ?? "",
    organizations: cert.subjectName.getField("O"),
  };
}
