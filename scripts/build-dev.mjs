// Builds the development entry point that package.json "bin" links run:
// one ESM bundle of src/cmd/main.ts with every npm package left external, so that
// `npm ci && npx edge-hub server` works in a checkout without a release build.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cmd/main.ts"],
  outfile: "dist/edgekube.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
  define: { "process.env.EDGEKUBE_BUILD_COMMIT": JSON.stringify(process.env.EDGEKUBE_BUILD_COMMIT ?? "") },
});
