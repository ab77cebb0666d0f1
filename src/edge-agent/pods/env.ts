/**
 * Container environment, resolved as the kubelet's makeEnvironmentVariables does.
 *
 * Design notes
 * - Order: envFrom sources first (each key with its prefix; keys that are not valid variable
 *   names are skipped and reported), then `env` entries, which override. A later entry's
 *   `$(VAR)` sees everything defined before it; `$$` escapes; unknown references stay verbatim.
 * - valueFrom: configMapKeyRef / secretKeyRef honour `optional` (missing object or key → the
 *   variable is left out); fieldRef and resourceFieldRef go through the downward API.
 * - A wrong reference is a ConfigError (upstream's CreateContainerConfigError) whose message is
 *   the kubelet's ("couldn't find key k in ConfigMap ns/name"), so people can grep for it.
 * - Service links (FOO_SERVICE_HOST…) are not generated: cluster DNS serves that purpose here.
 */
import type { Container } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../api/object.js";
import { expandVarRefs } from "../runtime/docker-mapping.js";
import { ConfigError, type DownwardContext, fieldRefValue, resourceFieldValue } from "./downward.js";

export type ConfigLookup = (kind: "ConfigMap" | "Secret", ns: string, name: string) => KubeObject | undefined;

export interface ResolvedEnv {
  env: { name: string; value: string }[];
  /** messages for an InvalidEnvironmentVariableNames event */
  warnings: string[];
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** ConfigMap data + binaryData, or Secret data decoded from base64 (plus stringData). */
export function configData(obj: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const put = (m: unknown, decode: (v: string) => Buffer) => {
    if (typeof m !== "object" || m === null) return;
    for (const [k, v] of Object.entries(m)) if (typeof v === "string") out.set(k, decode(v));
  };
  if (obj.kind === "Secret") {
    put(obj.data, (v) => Buffer.from(v, "base64"));
    put(obj.stringData, (v) => Buffer.from(v, "utf8"));
  } else {
    put(obj.data, (v) => Buffer.from(v, "utf8"));
    put(obj.binaryData, (v) => Buffer.from(v, "base64"));
  }
  return out;
}

function keyRef(
  lookup: ConfigLookup,
  kind: "ConfigMap" | "Secret",
  ns: string,
  ref: { name?: string; key: string; optional?: boolean },
): string | undefined {
  const name = ref.name ?? "";
  const obj = lookup(kind, ns, name);
  if (!obj) {
    if (ref.optional) return undefined;
    throw new ConfigError(
      `couldn't get ${kind === "ConfigMap" ? "configMap" : "secret"} ${ns}/${name}: ${kind.toLowerCase()} "${name}" not found`,
    );
  }
  const v = configData(obj).get(ref.key);
  if (v === undefined) {
    if (ref.optional) return undefined;
    throw new ConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${name}`);
  }
  return v.toString("utf8");
}

export function resolveEnv(container: Container, ctx: DownwardContext, lookup: ConfigLookup): ResolvedEnv {
  const ns = ctx.pod.metadata?.namespace ?? "";
  const vars = new Map<string, string>();
  const warnings: string[] = [];
  for (const src of container.envFrom ?? []) {
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref) continue;
    const kind = src.configMapRef ? "ConfigMap" : "Secret";
    const name = ref.name ?? "";
    const obj = lookup(kind, ns, name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ConfigError(`${kind.toLowerCase()} "${name}" not found`);
    }
    const invalid: string[] = [];
    for (const [k, v] of configData(obj)) {
      const full = (src.prefix ?? "") + k;
      if (!ENV_NAME.test(full)) invalid.push(k);
      else vars.set(full, v.toString("utf8"));
    }
    if (invalid.length > 0) {
      warnings.push(
        `Keys [${invalid.sort().join(", ")}] from the EnvFrom ${kind === "ConfigMap" ? "configMap" : "secret"} ` +
          `${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }
  for (const e of container.env ?? []) {
    let value: string | undefined;
    const from = e.valueFrom;
    if (e.value) value = expandVarRefs(e.value, vars);
    else if (from?.configMapKeyRef) value = keyRef(lookup, "ConfigMap", ns, from.configMapKeyRef);
    else if (from?.secretKeyRef) value = keyRef(lookup, "Secret", ns, from.secretKeyRef);
    else if (from?.fieldRef) value = fieldRefValue(ctx, from.fieldRef.fieldPath);
    else if (from?.resourceFieldRef) value = resourceFieldValue(ctx, from.resourceFieldRef, container.name);
    else value = "";
    if (value === undefined) continue;
    // re-setting keeps the first position; order of a Map is insertion order, as people expect
    vars.set(e.name, value);
  }
  return { env: [...vars].map(([name, value]) => ({ name, value })), warnings };
}
