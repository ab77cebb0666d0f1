// Builds the development entry point that package.json "bin" links run:
// one ESM bundle of src/cmd/main.ts with every npm package left external, so that
// `npm ci && npx edge-hub server` works in a checkout without a release build.
//
// Outputs are written to a temporary name and renamed into place, so a test file that builds
// while another one is starting `bin/edge-agent.mjs` never lets it load half a bundle.
// Code splitting: the hub and agent halves (dynamic imports in src/cmd/main.ts) become chunks
// with their own package imports, so a hub never loads dockerode and an agent never loads the
// API server. Chunks (content-hashed names) are written before the entry that imports them.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { build } from "esbuild";

const result = await build({
  entryPoints: ["src/cmd/main.ts"],
  outdir: "dist",
  entryNames: "edgekube",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
  write: false,
  define: { "process.env.EDGEKUBE_BUILD_COMMIT": JSON.stringify(process.env.EDGEKUBE_BUILD_COMMIT ?? "") },
});

const ENTRY = /[/\\]edgekube\.mjs(\.map)?$/;
const files = [...result.outputFiles].sort((a, b) => Number(ENTRY.test(a.path)) - Number(ENTRY.test(b.path)));
for (const file of files) {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
