#!/usr/bin/env node
// Benchmark harness: `npm run bench -- NAME [args…]` runs bench/NAME.ts (through tsx) or
// bench/NAME.mjs (through node). The benchmark prints progress on stderr and exactly one JSON
// document on stdout; the harness checks it parses and records it, pretty-printed, as
// bench/results/NAME-YYYY-MM-DD.json (a later run on the same day replaces it).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [name, ...args] = process.argv.slice(2);
if (!name || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
  process.stderr.write("usage: npm run bench -- NAME [args…]   (runs bench/NAME.ts or bench/NAME.mjs)\n");
  process.exit(2);
}
const ts = join(ROOT, "bench", `${name}.ts`);
const mjs = join(ROOT, "bench", `${name}.mjs`);
let cmd;
if (existsSync(ts)) cmd = [join(ROOT, "node_modules/.bin/tsx"), ts];
else if (existsSync(mjs)) cmd = [process.execPath, mjs];
else {
  process.stderr.write(`bench: neither bench/${name}.ts nor bench/${name}.mjs exists\n`);
  process.exit(2);
}
const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], {
  cwd: ROOT,
  stdio: ["ignore", "pipe", "inherit"],
  maxBuffer: 256 << 20,
});
if (r.status !== 0) {
  process.stderr.write(`bench: ${name} exited with ${r.status ?? r.signal}; nothing recorded\n`);
  process.exit(1);
}
let result;
try {
  result = JSON.parse(r.stdout.toString());
} catch (e) {
  process.stderr.write(
    `bench: ${name} did not print one JSON document on stdout (${e.message}); nothing recorded\n`,
  );
  process.exit(1);
}
const dir = join(ROOT, "bench/results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${name}-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
process.stdout.write(`${JSON.stringify(result, null, 2)}\nbench: recorded ${file.slice(ROOT.length + 1)}\n`);
