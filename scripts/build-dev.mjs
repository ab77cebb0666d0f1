// Builds the development entry point that package.json "bin" links run:
// one ESM bundle of src/cmd/main.ts with every npm package left external, so that
// `npm ci && npx edge-hub server` works in a checkout without a release build.
//
// Outputs are written to a temporary name and renamed into place, so a test file that builds
// while another one is starting `bin/edge-agent.mjs` never lets it load half a bundle.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { build } from "esbuild";

const result = await build({
  entryPoints: ["src/cmd/main.ts"],
  outfile: "dist/edgekube.mjs",
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

for (const file of result.outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
