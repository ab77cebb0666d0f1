// Builds the development entry point that package.json "bin" links run:
// an ESM bundle of src/cmd/main.ts with the npm packages left external (except dockerode and
// docker-modem, see scripts/lib/bundle-stubs.mjs), so that `npm ci && npx edge-hub server` works
// in a checkout without a release build. The options live in scripts/lib/dev-bundle.mjs.
//
// Design notes
// - Split at the dynamic imports of src/cmd/main.ts (dist/chunks/): the hub's and the agent's
//   code and npm packages load only in the role that runs (the agent's RSS target is < 60 MB).
//   Chunk names carry a content hash, so a build never rewrites a chunk a running process
//   may still import; chunks of older builds are removed once they are an hour old.
// - Outputs are written to a temporary name and renamed into place, entry point last, so a test
//   file that builds while another one is starting `bin/edge-agent.mjs` never lets it load half
//   a bundle.
// - dockerode and docker-modem are compiled in so that their eager requires of ssh2 and the
//   BuildKit gRPC stack resolve to throwing stubs (≈13 MiB of the agent's idle RSS); so are
//   mqtt, mqtt-packet, bl and dns2, for the lazy requires, the DoH stubs and node's stream
//   module in place of readable-stream (BUNDLED_IN_DEV in scripts/lib/bundle-stubs.mjs).
// - Chunks are written in Latin-1 only (latin1() says why: ≈1.5 MB of the hub's heap).
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { build } from "esbuild";
import { devBundleOptions, latin1 } from "./lib/dev-bundle.mjs";

const result = await build({
  ...devBundleOptions({
    entry: "src/cmd/main.ts",
    outdir: "dist",
    define: { "process.env.EDGEKUBE_BUILD_COMMIT": JSON.stringify(process.env.EDGEKUBE_BUILD_COMMIT ?? "") },
  }),
  sourcemap: "linked",
  write: false,
});

const entry = (f) => !f.path.includes("/chunks/");
for (const file of [...result.outputFiles.filter((f) => !entry(f)), ...result.outputFiles.filter(entry)]) {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.path.endsWith(".mjs") ? latin1(file.text) : file.contents);
  renameSync(tmp, file.path);
}

const fresh = new Set(result.outputFiles.map((f) => basename(f.path)));
const chunks = join("dist", "chunks");
for (const name of readdirSync(chunks)) {
  const p = join(chunks, name);
  if (!fresh.has(name) && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
}
