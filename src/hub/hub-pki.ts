/**
 * The hub's credentials in its data dir: cluster CA, serving certificate and the admin token.
 * Created on first start, reused after; the serving certificate is re-issued when the wanted
 * SANs change (a new --tls-san or node address) so kubectl keeps verifying the hub.
 *
 *   DATA/tls/ca.crt ca.key server.crt server.key mqtt-ticket.keys     DATA/tokens.json (0600)
 *
 * Design notes
 * - mqtt-ticket.keys (48 random bytes, 0600) encrypts the broker's TLS session tickets. Kept
 *   across restarts so that a fleet reconnecting after a hub restart resumes its TLS sessions
 *   (no certificate exchange, signature or chain verification per agent: ≈40 % less handshake
 *   CPU measured on these machines) instead of paying full handshakes in the storm. Whoever
 *   reads it could forge tickets, which is no more than whoever reads ca.key next to it can do;
 *   the running hub replaces it every 24 h (edge/ticket-key-rotation.ts).
 */
import { randomBytes, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../lib/fsutil.js";
import type { KeyPairPem } from "../lib/pki.js";
import { loadOrCreateTicketKey } from "./edge/ticket-key-rotation.js";

/** the MQTT port's TLS session-ticket key (see the header) */
export function ticketKeyFile(dataDir: string): string {
  return join(dataDir, "tls", "mqtt-ticket.keys");
}

/**
 * The X.509 library costs ~10 MB of RSS once loaded; a hub restarting with its credentials in
 * place never needs it, so it is loaded only when a certificate must be made.
 */
const pki = () => import("../lib/pki.js");

export interface HubCredentials {
  ca: KeyPairPem;
  server: KeyPairPem;
  adminToken: string;
  /** TLS session ticket keys of the MQTT port (see the header) */
  ticketKeys: Buffer;
}

export const CLUSTER_SANS = [
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

function hostAddresses(): string[] {
  const out = ["127.0.0.1"];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !out.includes(a.address)) out.push(a.address);
  }
  return out;
}

function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(":");
}

function readPair(dir: string, name: string): KeyPairPem | undefined {
  const c = join(dir, `${name}.crt`);
  const k = join(dir, `${name}.key`);
  if (!existsSync(c) || !existsSync(k)) return undefined;
  return { certPem: readFileSync(c, "utf8"), keyPem: readFileSync(k, "utf8") };
}

function writePair(dir: string, name: string, p: KeyPairPem): void {
  writeFileAtomic(join(dir, `${name}.key`), p.keyPem, 0o600);
  writeFileAtomic(join(dir, `${name}.crt`), p.certPem, 0o644);
}

function coversAll(certPem: string, dns: string[], ips: string[]): boolean {
  const cert = new X509Certificate(certPem);
  if (new Date(cert.validTo).getTime() < Date.now() + 30 * 86_400_000) return false;
  return (
    dns.every((d) => cert.checkHost(d, { wildcards: false }) === d) && ips.every((i) => cert.checkIP(i) === i)
  );
}

/**
 * Would loadOrCreateCredentials have to create a certificate (no CA, no serving certificate, or
 * one that does not cover these names and the host's addresses)? Cheap: node:crypto only, so a
 * caller can have them made in a short-lived process and keep @peculiar/x509 out of the hub.
 */
export function credentialsMissing(dataDir: string, extraSans: string[], serviceIP: string): boolean {
  const tls = join(dataDir, "tls");
  if (!readPair(tls, "ca")) return true;
  const server = readPair(tls, "server");
  const dns = [...CLUSTER_SANS, ...extraSans.filter((s) => !isIp(s))];
  const ips = [...new Set([...hostAddresses(), serviceIP, ...extraSans.filter(isIp)])];
  return !server || !coversAll(server.certPem, dns, ips);
}

export async function loadOrCreateCredentials(
  dataDir: string,
  extraSans: string[],
  serviceIP: string,
): Promise<HubCredentials> {
  const tls = join(dataDir, "tls");
  let ca = readPair(tls, "ca");
  if (!ca) {
    ca = await (await pki()).createCA("edgekube-ca");
    writePair(tls, "ca", ca);
  }
  const dns = [...CLUSTER_SANS, ...extraSans.filter((s) => !isIp(s))];
  const ips = [...new Set([...hostAddresses(), serviceIP, ...extraSans.filter(isIp)])];
  let server = readPair(tls, "server");
  if (!server || !coversAll(server.certPem, dns, ips)) {
    server = await (await pki()).issueCert(ca, {
      commonName: "edgekube-hub",
      dnsNames: dns,
      ipAddresses: ips,
      usage: "server",
    });
    writePair(tls, "server", server);
  }
  const tokensFile = join(dataDir, "tokens.json");
  let adminToken: string;
  if (existsSync(tokensFile)) {
    const parsed = JSON.parse(readFileSync(tokensFile, "utf8")) as { admin?: string };
    if (!parsed.admin)
      throw new Error(`${tokensFile} has no "admin" token: delete the file to have a new one made`);
    adminToken = parsed.admin;
  } else {
    adminToken = randomBytes(32).toString("base64url");
    writeFileAtomic(tokensFile, JSON.stringify({ admin: adminToken }, null, 2), 0o600);
  }
  const ticketKeys = loadOrCreateTicketKey(ticketKeyFile(dataDir));
  return { ca, server, adminToken, ticketKeys };
}

export function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- name: edgekube
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: edgekube
  context:
    cluster: edgekube
    user: admin
current-context: edgekube
`;
}
