/**
 * ServiceAccount tokens: `kubectl create token` (TokenRequest, sent as protobuf) returns a JWT
 * the hub accepts as a bearer token for that service account; expired or tampered tokens are
 * refused; durations under 10 minutes are invalid, as upstream.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKubectl, startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

describe.skipIf(!need(hasKubectl()))("service account tokens", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  /** kubeconfig homes made by kubeconfigWith, removed at the end */
  const homes: string[] = [];
  afterAll(async () => {
    await t?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  function kubeconfigWith(token: string): { kc: string; home: string } {
    const home = mkdtempSync(join(tmpdir(), "ek-sa-"));
    homes.push(home);
    const kc = join(home, "kc");
    writeFileSync(kc, readFileSync(t.kubeconfig, "utf8").replace(/token: .*/, `token: ${token}`));
    return { kc, home };
  }

  it("issues a token that authenticates as the service account", async () => {
    await t.kubectl(["create", "ns", "sa1"]);
    await t.kubectl(["create", "serviceaccount", "robot", "-n", "sa1"]);
    const tok = (await t.kubectl(["create", "token", "robot", "-n", "sa1", "--duration=1h"])).stdout.trim();
    expect(tok.split(".")).toHaveLength(3);
    const { kc, home } = kubeconfigWith(tok);
    const who = await runKubectl(kc, home, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    expect(who.stdout).toBe("system:serviceaccount:sa1:robot");
    const [h, p, s] = tok.split(".") as [string, string, string];
    const forged = Buffer.from(p, "base64url").toString().replace("robot", "admin!");
    const bad = kubeconfigWith(`${h}.${Buffer.from(forged).toString("base64url")}.${s}`);
    const r = await runKubectl(bad.kc, bad.home, ["get", "ns"], { allowFail: true });
    expect(r.stderr).toContain("You must be logged in to the server");
  });

  it("refuses durations under 10 minutes and unknown service accounts", async () => {
    const short = await t.kubectl(["create", "token", "default", "-n", "default", "--duration=5m"], {
      allowFail: true,
    });
    expect(short.stderr).toContain("may not specify a duration less than 10 minutes");
    const missing = await t.kubectl(["create", "token", "nobody", "-n", "default"], { allowFail: true });
    expect(missing.stderr).toContain('serviceaccounts "nobody" not found');
  });
});
