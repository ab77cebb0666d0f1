#!/usr/bin/env node
/**
 * Generates the OpenAPI v3 component schemas the hub serves, from the `kubernetes-types` package's
 * declaration files, into src/hub/apiserver/openapi/generated/schemas.json (`npm run gen:openapi`).
 *
 * Design notes
 * - `kubernetes-types` is itself generated from upstream's OpenAPI and keeps every description as
 *   JSDoc, so reading its .d.ts with the TypeScript compiler API gives back the schema graph with
 *   real descriptions (what `kubectl explain` prints) without vendoring upstream's multi-megabyte
 *   spec. Schema names follow upstream (`io.k8s.api.core.v1.Pod`), so `$ref`s and
 *   `x-kubernetes-group-version-kind` read exactly like a real API server's.
 * - What the .d.ts cannot say (int32 vs int64 vs double, byte strings, strategic-merge keys, list
 *   topology) comes from scripts/openapi-field-facts.json, which scripts/extract-field-facts.mjs
 *   derives from the Go struct tags of the matching release. Unknown numbers default to int32.
 * - Property references to other schemas are wrapped as `allOf: [{$ref}]` beside the property's
 *   own description, like upstream v3 (a sibling of a bare `$ref` is ignored by OpenAPI 3.0).
 * - Only the group-versions the hub serves are emitted; output is compact JSON, keys sorted so
 *   regeneration is byte-stable and diffs stay reviewable.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { API_GROUP_VERSIONS, apiPrefix } from "./lib/api-group-versions.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const typesDir = join(root, "node_modules", "kubernetes-types");
/** Output path; an argument overrides it (the unit test regenerates into a temp file to compare). */
const outFile =
  process.argv[2] ?? join(root, "src", "hub", "apiserver", "openapi", "generated", "schemas.json");
const facts = JSON.parse(readFileSync(join(root, "scripts", "openapi-field-facts.json"), "utf8"));

/** Declaration file (relative to kubernetes-types, no extension) → upstream name prefix. */
const PREFIX = {
  "api/resource": "io.k8s.apimachinery.pkg.api.resource",
  runtime: "io.k8s.apimachinery.pkg.runtime",
  "meta/v1": "io.k8s.apimachinery.pkg.apis.meta.v1",
  "apiextensions/v1": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
};
for (const gv of API_GROUP_VERSIONS) PREFIX[gv] = apiPrefix(gv);

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const EXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";
/** Types whose wire form differs from their TypeScript shape; descriptions still come from JSDoc. */
const OVERRIDE = {
  "io.k8s.apimachinery.pkg.api.resource.Quantity": { oneOf: [{ type: "string" }, { type: "number" }] },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time": { type: "string", format: "date-time" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": { type: "string", format: "date-time" },
  "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": { type: "object" },
  "io.k8s.apimachinery.pkg.runtime.RawExtension": { type: "object" },
  [`${EXT}.JSON`]: {},
  [`${EXT}.JSONSchemaPropsOrArray`]: {},
  [`${EXT}.JSONSchemaPropsOrBool`]: {},
  [`${EXT}.JSONSchemaPropsOrStringArray`]: {},
};

const files = Object.keys(PREFIX).map((f) => join(typesDir, `${f}.d.ts`));
const program = ts.createProgram(files, { noEmit: true, strict: true });
const checker = program.getTypeChecker();

function prefixOf(sourceFile) {
  const rel = relative(typesDir, sourceFile.fileName).replace(/\.d\.ts$/, "");
  const prefix = PREFIX[rel];
  if (!prefix) throw new Error(`${rel}.d.ts is referenced but not in the generator's PREFIX table`);
  return prefix;
}

function docOf(node) {
  const sym = node.name && checker.getSymbolAtLocation(node.name);
  return sym ? ts.displayPartsToString(sym.getDocumentationComment(checker)).trim() : "";
}

/** Upstream schema name of the declaration a type reference points to. */
function refName(typeRef) {
  let sym = checker.getSymbolAtLocation(typeRef.typeName);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.declarations?.[0];
  if (!decl) throw new Error(`cannot resolve type ${typeRef.typeName.getText()}`);
  return `${prefixOf(decl.getSourceFile())}.${sym.name}`;
}

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });

/** Schema of a TypeScript type node; `fact` carries the Go-derived format for numbers. */
function schemaOf(node, fact) {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return fact?.format === "byte" ? { type: "string", format: "byte" } : { type: "string" };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: "boolean" };
    case ts.SyntaxKind.NumberKeyword:
      return fact?.format === "double"
        ? { type: "number", format: "double" }
        : { type: "integer", format: fact?.format ?? "int32" };
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return {};
    case ts.SyntaxKind.LiteralType:
      return ts.isStringLiteral(node.literal) ? { type: "string" } : {};
    case ts.SyntaxKind.ArrayType:
      return { type: "array", items: schemaOf(node.elementType, fact) };
    case ts.SyntaxKind.UnionType: {
      const kinds = node.types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword)) {
        if (kinds.includes(ts.SyntaxKind.StringKeyword)) return ref(INT_OR_STRING);
      }
      throw new Error(`unsupported union type ${node.getText()}`);
    }
    case ts.SyntaxKind.TypeLiteral: {
      const index = node.members.find(ts.isIndexSignatureDeclaration);
      if (!index) throw new Error(`unsupported type literal ${node.getText()}`);
      return { type: "object", additionalProperties: schemaOf(index.type, fact) };
    }
    case ts.SyntaxKind.TypeReference: {
      const name = node.typeName.getText();
      if (name === "Array" && node.typeArguments?.length === 1) {
        return { type: "array", items: schemaOf(node.typeArguments[0], fact) };
      }
      return ref(refName(node));
    }
    default:
      throw new Error(`unsupported type ${node.getText()}`);
  }
}

function propertyName(member) {
  return ts.isIdentifier(member.name) || ts.isStringLiteral(member.name) ? member.name.text : null;
}

/** Literal value of `kind?: "Pod"` / `apiVersion?: "apps/v1"`, used to mark top-level kinds. */
function literalOf(decl, field) {
  const m = decl.members.find((x) => propertyName(x) === field);
  return m?.type && ts.isLiteralTypeNode(m.type) && ts.isStringLiteral(m.type.literal)
    ? m.type.literal.text
    : null;
}

function withExtensions(schema, fact) {
  if (!fact) return schema;
  if (fact.patchStrategy) schema["x-kubernetes-patch-strategy"] = fact.patchStrategy;
  if (fact.patchMergeKey) schema["x-kubernetes-patch-merge-key"] = fact.patchMergeKey;
  if (fact.listType && schema.type === "array") schema["x-kubernetes-list-type"] = fact.listType;
  if (fact.listMapKeys && schema.type === "array") schema["x-kubernetes-list-map-keys"] = fact.listMapKeys;
  if (fact.mapType && schema.type === "object") schema["x-kubernetes-map-type"] = fact.mapType;
  return schema;
}

function interfaceSchema(name, decl) {
  const typeFacts = facts[name] ?? {};
  const properties = {};
  const required = [];
  for (const member of decl.members) {
    const prop = propertyName(member);
    if (!ts.isPropertySignature(member) || prop === null || !member.type) continue;
    const description = docOf(member);
    const inner = schemaOf(member.type, typeFacts[prop]);
    const schema = inner.$ref ? { allOf: [inner] } : inner;
    if (description) schema.description = description;
    properties[prop] = withExtensions(schema, typeFacts[prop]);
    if (!member.questionToken) required.push(prop);
  }
  const schema = { type: "object" };
  if (Object.keys(properties).length > 0) schema.properties = properties;
  if (required.length > 0) schema.required = required.sort();
  if (typeFacts[""]?.mapType) schema["x-kubernetes-map-type"] = typeFacts[""].mapType;
  const kind = literalOf(decl, "kind");
  const apiVersion = literalOf(decl, "apiVersion");
  if (kind && apiVersion) {
    const slash = apiVersion.indexOf("/");
    const [group, version] =
      slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    schema["x-kubernetes-group-version-kind"] = [{ group, kind, version }];
  }
  return schema;
}

const schemas = {};
for (const file of files) {
  const sf = program.getSourceFile(file);
  if (!sf) throw new Error(`cannot read ${file}`);
  const prefix = prefixOf(sf);
  ts.forEachChild(sf, (node) => {
    if (!ts.isInterfaceDeclaration(node) && !ts.isTypeAliasDeclaration(node)) return;
    const name = `${prefix}.${node.name.text}`;
    const description = docOf(node);
    let schema;
    if (OVERRIDE[name]) schema = structuredClone(OVERRIDE[name]);
    else if (ts.isInterfaceDeclaration(node)) schema = interfaceSchema(name, node);
    else throw new Error(`type alias ${name} has no entry in OVERRIDE`);
    schemas[name] = description ? { description, ...schema } : schema;
  });
}
schemas[INT_OR_STRING] = {
  description:
    "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
  type: "string",
  format: "int-or-string",
  "x-kubernetes-int-or-string": true,
};

/** Recursively sorted keys (arrays keep their order) for byte-stable output. */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  }
  return v;
}

writeFileSync(outFile, `${JSON.stringify(sortKeys(schemas))}\n`);
console.log(`wrote ${Object.keys(schemas).length} schemas to ${outFile}`);
