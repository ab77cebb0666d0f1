#!/usr/bin/env node
/**
 * Extracts per-field facts that the TypeScript declarations in `kubernetes-types` cannot carry,
 * from the Go sources of k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver,
 * and writes them to scripts/openapi-field-facts.json for scripts/gen-openapi.mjs.
 *
 * Design notes
 * - `kubernetes-types` types every number as `number` and drops struct tags, but upstream OpenAPI
 *   says `integer/int32`, `integer/int64` or `number/double`, and carries the strategic-merge and
 *   list-topology extensions (`patchStrategy`/`patchMergeKey` struct tags, `+listType`, `+listMapKey`,
 *   `+mapType`, `+structType` markers). Only those facts are kept (a small JSON table); no Go code
 *   is copied.
 * - Input is read straight from git (`git --git-dir D show TAG:path`), so any local clone or mirror
 *   at the matching release tag works:
 *     node scripts/extract-field-facts.mjs API_GIT APIMACHINERY_GIT APIEXTENSIONS_GIT [TAG=v0.32.9]
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { API_GROUP_VERSIONS, apiPrefix } from "./lib/api-group-versions.mjs";

const [apiGit, machineryGit, extGit, tag = "v0.32.9"] = process.argv.slice(2);
if (!apiGit || !machineryGit || !extGit) {
  console.error(
    "usage: extract-field-facts.mjs <k8s.io/api git dir> <apimachinery git dir> <apiextensions-apiserver git dir> [tag]",
  );
  process.exit(2);
}

/** Go package directory → upstream OpenAPI name prefix. */
const packages = [
  ...API_GROUP_VERSIONS.map((dir) => ({ git: apiGit, dir, prefix: apiPrefix(dir) })),
  { git: machineryGit, dir: "pkg/apis/meta/v1", prefix: "io.k8s.apimachinery.pkg.apis.meta.v1" },
  {
    git: extGit,
    dir: "pkg/apis/apiextensions/v1",
    prefix: "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
  },
];

function git(gitDir, ...args) {
  return execFileSync("git", ["--git-dir", gitDir, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
}

function goFiles(gitDir, dir) {
  return git(gitDir, "ls-tree", "--name-only", `${tag}:${dir}`)
    .split("\n")
    .filter((f) => f.endsWith(".go") && !f.endsWith("_test.go") && !f.startsWith("zz_generated"))
    .filter((f) => !f.startsWith("generated") && !f.includes("swagger_doc"));
}

const NUMERIC = { int32: "int32", int64: "int64", float64: "double", int: "int32", uint64: "int64" };

/** Format of the leaf value of a Go field type, following pointers, slices and maps. */
function leafFormat(goType, aliases) {
  let t = goType.replace(/^\*/, "");
  for (;;) {
    if (t === "[]byte") return "byte";
    if (t.startsWith("[]")) t = t.slice(2);
    else if (t.startsWith("map[")) t = t.slice(t.indexOf("]") + 1);
    else if (t.startsWith("*")) t = t.slice(1);
    else break;
  }
  return NUMERIC[t] ?? NUMERIC[aliases.get(t) ?? ""];
}

const facts = {};
for (const pkg of packages) {
  const sources = goFiles(pkg.git, pkg.dir).map((f) => git(pkg.git, "show", `${tag}:${pkg.dir}/${f}`));
  const aliases = new Map();
  for (const src of sources) {
    for (const m of src.matchAll(/^type (\w+) (int32|int64|float64|\[\]byte)$/gm)) aliases.set(m[1], m[2]);
  }
  for (const src of sources) {
    let struct = null;
    let markers = [];
    for (const line of src.split("\n")) {
      const marker = /^\s*\/\/ \+(listType|listMapKey|mapType|structType)=(\S+)/.exec(line);
      if (marker) {
        markers.push([marker[1], marker[2]]);
        continue;
      }
      const open = /^type (\w+) struct \{/.exec(line);
      if (open) {
        struct = { name: `${pkg.prefix}.${open[1]}`, fields: {} };
        const atomic = markers.find(([k]) => k === "structType");
        if (atomic) struct.fields[""] = { mapType: atomic[1] };
        markers = [];
        continue;
      }
      if (struct && line === "}") {
        if (Object.keys(struct.fields).length > 0) facts[struct.name] = struct.fields;
        struct = null;
        markers = [];
        continue;
      }
      const field = struct && /^\t(\w+)\s+([^\s`]+)\s+`([^`]*)`/.exec(line);
      if (field) {
        const json = /json:"([^",]*)/.exec(field[3])?.[1];
        const f = {};
        const fmt = leafFormat(field[2], aliases);
        if (fmt) f.format = fmt;
        const ps = /patchStrategy:"([^"]+)"/.exec(field[3]);
        if (ps) f.patchStrategy = ps[1];
        const pk = /patchMergeKey:"([^"]+)"/.exec(field[3]);
        if (pk) f.patchMergeKey = pk[1];
        for (const [k, v] of markers) {
          if (k === "listType") f.listType = v;
          if (k === "listMapKey") f.listMapKeys = [...(f.listMapKeys ?? []), v];
          if (k === "mapType") f.mapType = v;
        }
        if (json && Object.keys(f).length > 0) struct.fields[json] = f;
      }
      if (!/^\s*\/\//.test(line)) markers = [];
    }
  }
}

const out = join(dirname(fileURLToPath(import.meta.url)), "openapi-field-facts.json");
writeFileSync(out, `${JSON.stringify(facts, null, 1)}\n`);
console.log(`wrote ${Object.keys(facts).length} types to ${out}`);
