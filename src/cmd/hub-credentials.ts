/**
 * First-start credentials made in a short-lived child process: `edge-hub server` runs itself as
 * `edge-hub init-credentials` when the CA or serving certificate must be created.
 *
 * Design notes
 * - Certificates are made with @peculiar/x509 (with asn1js, tsyringe, reflect-metadata): once
 *   imported, a module stays in the process for good, ≈8 MB of the hub's idle RSS on a fresh
 *   data dir (bench/hub-idle's "fresh" case) for a job done once. In a child, that memory goes
 *   when the child exits; the hub then finds the files and never loads the library.
 * - The child is this same program: node plus the launcher script in a checkout, the
 *   executable itself in a single-executable build (node:sea). `edge-hub …` and `edgekube hub …`
 *   spell the command differently; the launcher's name says which.
 * - Best effort: if the child cannot run or fails, the hub makes the credentials in-process as
 *   before (same files, same code), so a first start never fails because of this.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { basename } from "node:path";
import { isSea } from "node:sea";
import { credentialsMissing, loadOrCreateCredentials } from "../hub/hub-pki.js";
import type { Logger } from "../lib/logger.js";

/**
 * `edge-hub init-credentials --data-dir D --service-ip IP [--tls-san X]…` (internal: run by
 * `server`); IP is the cluster's `kubernetes` service address, a SAN of the serving certificate.
 */
export async function initCredentials(
  dataDir: string,
  tlsSans: string[],
  serviceIP: string,
): Promise<number> {
  // as the hub makes it: private to the hub's user
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await loadOrCreateCredentials(dataDir, tlsSans, serviceIP);
  return 0;
}

/** the command line that runs this program's hub role again, or undefined when unknown */
function selfCommand(): { file: string; args: string[] } | undefined {
  if (isSea()) {
    const name = basename(process.argv0);
    return { file: process.execPath, args: name.startsWith("edge-hub") ? [] : ["hub"] };
  }
  const script = process.argv[1];
  // a launcher of ours, not a tool that runs this code in-process (vitest's, under node_modules)
  if (!script || !/\.(mjs|js|cjs)$/.test(script) || script.includes("node_modules")) return undefined;
  return {
    file: process.execPath,
    args: [script, ...(basename(script).startsWith("edge-hub") ? [] : ["hub"])],
  };
}

/** creates missing credentials in a child process; returns whether they are now in place */
export async function createCredentialsInChild(
  dataDir: string,
  tlsSans: string[],
  serviceIP: string,
  log: Logger,
): Promise<boolean> {
  if (!credentialsMissing(dataDir, tlsSans, serviceIP)) return true;
  const self = selfCommand();
  if (!self) return false;
  const args = [
    ...self.args,
    "init-credentials",
    "--data-dir",
    dataDir,
    "--service-ip",
    serviceIP,
    ...tlsSans.flatMap((s) => ["--tls-san", s]),
  ];
  const code = await new Promise<number | null>((done) => {
    const child = spawn(self.file, args, { stdio: ["ignore", "ignore", "inherit"], timeout: 120_000 });
    child.once("error", () => done(null));
    child.once("exit", (c) => done(c));
  });
  if (code !== 0) {
    log.warn({ code }, "making credentials in a child process failed; making them in-process");
    return false;
  }
  return !credentialsMissing(dataDir, tlsSans, serviceIP);
}
