/**
 * The simulated agents' worker (sync-agents.ts) as one ESM bundle built like the agent ships:
 * the dev bundle's options and plugins (scripts/lib/dev-bundle.mjs), so mqtt.js, mqtt-packet and
 * bl are compiled in and run on node's own stream module instead of the readable-stream copy.
 *
 * Design notes
 * - Why: bench/sync reports the workers' CPU per reconnect as the agents' cost. Run from source
 *   under tsx, every agent paid for what no shipped agent runs: readable-stream 4 (a JavaScript
 *   copy of node's streams, whose Writable require()s its Duplex on each construction, through
 *   tsx's resolver hooks) under mqtt.js' client, parser and store on every connect. Built the
 *   agent's way, the figure is the agent's code path (plus the partition relay, which stays).
 * - One file, no splitting (the worker imports everything at once); written next to the dev
 *   bundle (dist/, ignored by git) under a name that says what it is.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { devBundleOptions, latin1 } from "../../scripts/lib/dev-bundle.mjs";

export const AGENT_WORKER_BUNDLE = "dist/bench/sync-agents.mjs";

/** Builds bench/lib/sync-agents.ts into AGENT_WORKER_BUNDLE; resolves its path. */
export async function buildAgentWorker(): Promise<string> {
  const base = devBundleOptions({ entry: "bench/lib/sync-agents.ts", outdir: "dist/bench" });
  const result = await build({
    ...base,
    entryPoints: { "sync-agents": "bench/lib/sync-agents.ts" },
    splitting: false,
    write: false,
  });
  mkdirSync("dist/bench", { recursive: true });
  for (const f of result.outputFiles) writeFileSync(f.path, latin1(f.text));
  return AGENT_WORKER_BUNDLE;
}
