/**
 * Prerequisite checks for integration and e2e tests. Outside CI a missing prerequisite
 * skips the suite with the reason; under CI=true it fails, so nothing is skipped silently.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface Prereq {
  ok: boolean;
  why: string;
}

function check(ok: boolean, why: string): Prereq {
  return { ok, why: ok ? "" : why };
}

export const isCI = process.env.CI === "true" || process.env.CI === "1";

export function hasRoot(): Prereq {
  return check(process.getuid?.() === 0, "needs root (network namespaces, iptables)");
}

export function hasDocker(): Prereq {
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 10_000 });
    return check(true, "");
  } catch {
    return check(false, "needs a running dockerd (run scripts/prereqs.sh)");
  }
}

export function hasKubectl(): Prereq {
  return check(existsSync("/usr/bin/kubectl"), "needs kubectl at /usr/bin/kubectl");
}

/**
 * Returns true when the suite can run. Use as `describe.skipIf(!need(hasRoot()))(…)`:
 * under CI a missing prerequisite throws at collection time, failing the run loudly.
 */
export function need(...reqs: Prereq[]): boolean {
  const missing = reqs.filter((r) => !r.ok).map((r) => r.why);
  if (missing.length === 0) return true;
  if (isCI) throw new Error(`missing test prerequisite under CI: ${missing.join("; ")}`);
  console.warn(`skipping: ${missing.join("; ")}`);
  return false;
}
