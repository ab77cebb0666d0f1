// Builds the development entry point that package.json "bin" links run:
// an ESM bundle of src/cmd/main.ts with every npm package left external, so that
// `npm ci && npx edge-hub server` works in a checkout without a release build.
//
// Design notes
// - Split at the dynamic imports of src/cmd/main.ts (dist/chunks/): the hub's and the agent's
//   code and npm packages load only in the role that runs (the agent's RSS target is < 60 MB).
//   Chunk names carry a content hash, so a build never rewrites a chunk a running process
//   may still import; chunks of older builds are removed once they are an hour old.
// - Outputs are written to a temporary name and renamed into place, entry point last, so a test
//   file that builds while another one is starting `bin/edge-agent.mjs` never lets it load half
//   a bundle.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { build } from "esbuild";

const result = await build({
  entryPoints: { edgekube: "src/cmd/main.ts" },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
  write: false,
  define: { "process.env.EDGEKUBE_BUILD_COMMIT": JSON.stringify(process.env.EDGEKUBE_BUILD_COMMIT ?? "") },
});

const entry = (f) => !f.path.includes("/chunks/");
for (const file of [...result.outputFiles.filter((f) => !entry(f)), ...result.outputFiles.filter(entry)]) {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}

const fresh = new Set(result.outputFiles.map((f) => basename(f.path)));
const chunks = join("dist", "chunks");
for (const name of readdirSync(chunks)) {
  const p = join(chunks, name);
  if (!fresh.has(name) && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
}
