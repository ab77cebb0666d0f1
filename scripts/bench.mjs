#!/usr/bin/env node
// Benchmark harness: `npm run bench -- NAME` runs bench/NAME.ts with tsx; the benchmark prints
// its result as one JSON line (the last line of stdout), saved to bench/results/NAME-<date>.json.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const name = process.argv[2];
if (!name || !existsSync(join(root, "bench", `${name}.ts`))) {
  console.error(`usage: npm run bench -- NAME   (runs bench/NAME.ts; "${name ?? ""}" not found)`);
  process.exit(2);
}
const child = spawn("npx", ["tsx", join("bench", `${name}.ts`), ...process.argv.slice(3)], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});
let out = "";
child.stdout.on("data", (d) => {
  out += d;
  process.stdout.write(d);
});
child.on("exit", (code) => {
  const last = out.trim().split("\n").pop() ?? "";
  let result;
  try {
    result = JSON.parse(last);
  } catch {
    console.error(`bench/${name}.ts did not end with a JSON result line (exit ${code})`);
    process.exit(code || 1);
  }
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.error(`result written to ${file}`);
  process.exit(code ?? 0);
});
