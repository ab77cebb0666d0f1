/**
 * The environment the shipped hub unit (images/pi/overlay/etc/systemd/system/edgekube-hub.service)
 * gives the hub, for benchmarks that run "a hub as users run it" (bench/lib/hub-process.ts).
 *
 * Design notes
 * - The unit sets glibc's malloc tunables (docs/hub-memory.md §6): glibc reads GLIBC_TUNABLES
 *   once, when the process starts, so a hub started without them is a different hub. Reading
 *   them from the unit file keeps the benchmark and the product from drifting apart.
 * - Only `Environment=` lines are read, in systemd's two spellings: `Environment=K=V` and
 *   `Environment="K=V" "K2=V2"`. Anything else on such a line is an error, not a silent skip.
 * - A variable already set in the environment the bench passes (for instance `--hub-env
 *   GLIBC_TUNABLES=` to run without) wins over the unit's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const HUB_UNIT_FILE = join(
  import.meta.dirname,
  "../../images/pi/overlay/etc/systemd/system/edgekube-hub.service",
);

/** The variables of every `Environment=` line of a systemd unit's text, in order. */
export function parseUnitEnvironment(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line.startsWith("Environment=")) continue;
    const rest = line.slice("Environment=".length);
    const words = rest.startsWith('"') ? [...rest.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? "") : [rest];
    if (words.length === 0) throw new Error(`unit line ${n + 1}: no KEY=VALUE in ${JSON.stringify(line)}`);
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq <= 0 || /\s/.test(w.slice(0, eq)))
        throw new Error(`unit line ${n + 1}: expected KEY=VALUE, got ${JSON.stringify(w)}`);
      out[w.slice(0, eq)] = w.slice(eq + 1);
    }
  }
  return out;
}

/** The shipped hub unit's environment. */
export function shippedHubEnvironment(file = HUB_UNIT_FILE): Record<string, string> {
  return parseUnitEnvironment(readFileSync(file, "utf8"));
}

/** `base` with the unit's variables added where `base` does not set them. */
export function withUnitEnvironment(
  base: NodeJS.ProcessEnv,
  unit = shippedHubEnvironment(),
): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const [k, v] of Object.entries(unit)) if (env[k] === undefined) env[k] = v;
  return env;
}
