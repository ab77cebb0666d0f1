// The esbuild options of the development bundle, shared by scripts/build-dev.mjs and the
// dev-cluster test fixture (test/helpers/dev-cluster-fixture.ts), so that the agents that
// tests and bench/pods start load exactly what `npm ci` builds: the same chunks, the same
// stubs (scripts/lib/bundle-stubs.mjs), the same memory footprint.
import { externalExceptDocker, unsupportedTransportStubs } from "./bundle-stubs.mjs";

/** esbuild BuildOptions for an ESM bundle of src/cmd/main.ts split at the role imports. */
export function devBundleOptions({ entry, outdir, define = {} }) {
  return {
    entryPoints: { edgekube: entry },
    outdir,
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    plugins: [unsupportedTransportStubs, externalExceptDocker],
    // dockerode's CommonJS code require()s its external dependencies: give every chunk a real one
    banner: {
      js: 'import { createRequire as __ekCreateRequire } from "node:module";\nconst require = __ekCreateRequire(import.meta.url);',
    },
    logLevel: "warning",
    minifyWhitespace: true,
    minifySyntax: true,
    define,
  };
}

/**
 * V8 keeps each module's source text in the heap, one byte per character only when every
 * character is Latin-1: a single "→" left in a comment doubles a 1.5 MB hub chunk to 3 MB of
 * heap. esbuild already escapes non-ASCII characters in code, so the ones left are in comments,
 * where \uXXXX text is equivalent.
 */
export function latin1(text) {
  return text.replace(/[^\u0000-\u00ff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
