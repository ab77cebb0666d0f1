/**
 * `edge-hub init-credentials` (what `edge-hub server` runs in a child process on a first start,
 * so the X.509 library never loads in the hub): the real dev launcher makes the CA, the serving
 * certificate (with the --tls-san names) and the admin token, with the hub's file modes, and
 * credentialsMissing() then says nothing is left to make.
 */
import { execFile, execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsMissing } from "../../../src/hub/hub-pki.js";

const ROOT = join(import.meta.dirname, "../../..");

describe("edge-hub init-credentials", () => {
  const dirs: string[] = [];
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-dev.mjs")], { cwd: ROOT, stdio: "pipe" });
  }, 120_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // not the default 10.43.0.1: the serving certificate follows --service-cidr (first address)
  const SERVICE_IP = "10.96.0.1";

  it("makes the CA, serving certificate and admin token that server would make", async () => {
    const parent = mkdtempSync(join(tmpdir(), "ek-init-creds-"));
    dirs.push(parent);
    const dataDir = join(parent, "hub");
    expect(credentialsMissing(dataDir, ["hub.example.test"], SERVICE_IP)).toBe(true);
    await new Promise<void>((done, fail) =>
      execFile(
        process.execPath,
        [
          join(ROOT, "bin/edge-hub.mjs"),
          "init-credentials",
          "--data-dir",
          dataDir,
          "--tls-san",
          "hub.example.test",
          "--service-ip",
          SERVICE_IP,
        ],
        { timeout: 60_000 },
        (err, _out, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : done()),
      ),
    );
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, "tls", "ca.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "tokens.json")).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(dataDir, "tls", "server.crt")));
    const ca = new X509Certificate(readFileSync(join(dataDir, "tls", "ca.crt")));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost("hub.example.test")).toBe("hub.example.test");
    expect(cert.checkIP(SERVICE_IP)).toBe(SERVICE_IP);
    expect(credentialsMissing(dataDir, ["hub.example.test"], SERVICE_IP)).toBe(false);
    // a new name is a new serving certificate to make
    expect(credentialsMissing(dataDir, ["other.example.test"], SERVICE_IP)).toBe(true);
  });
});
