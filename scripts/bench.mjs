// `npm run bench -- NAME [args]`: runs bench/NAME.ts (or .mjs) with tsx; each benchmark writes
// its JSON to bench/results/NAME-<date>.json and prints a summary.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const [name, ...rest] = process.argv.slice(2);
if (!name) {
  console.error("usage: npm run bench -- NAME   (NAME = a file in bench/, e.g. api)");
  process.exit(2);
}
const file = [`bench/${name}.ts`, `bench/${name}.mjs`].find((f) => existsSync(f));
if (!file) {
  console.error(`no benchmark named "${name}": expected bench/${name}.ts or bench/${name}.mjs`);
  process.exit(2);
}
const r = spawnSync("npx", ["tsx", file, ...rest], { stdio: "inherit" });
process.exit(r.status ?? 1);
