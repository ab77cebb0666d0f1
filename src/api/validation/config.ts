/**
 * ConfigMap and Secret validation (create and update).
 *
 * Design notes:
 * - Both share the key syntax and the 1 MiB total size (upstream MaxSecretSize), counted over
 *   decoded bytes: Secret `data` and ConfigMap `binaryData` arrive base64-encoded.
 * - Typed Secrets (tls, dockerconfigjson, basic-auth, ssh-auth, service-account-token) require
 *   their well-known keys, so consumers (kubelet pulls, TLS ingress) can trust them.
 * - `immutable: true` freezes data and the flag itself.
 */
import { fieldErr } from "../errors.js";
import { isConfigMapKey } from "../names.js";
import { isObject, type JsonObject } from "../object.js";
import { type Causes, deepEqual, immutable, key } from "./util.js";

export const MAX_SECRET_SIZE = 1024 * 1024;
const REDACTED = "<secret contents redacted>";

const decodedLength = (v: unknown): number => (typeof v === "string" ? Buffer.from(v, "base64").length : 0);
const isBase64 = (v: unknown): boolean =>
  typeof v === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0;

function validateKeys(map: unknown, path: string): Causes {
  if (!isObject(map)) return [];
  const out: Causes = [];
  for (const k of Object.keys(map))
    for (const m of isConfigMapKey(k)) out.push(fieldErr.invalid(key(path, k), k, m));
  return out;
}

export function validateConfigMap(cm: JsonObject): Causes {
  const out: Causes = [...validateKeys(cm.data, "data"), ...validateKeys(cm.binaryData, "binaryData")];
  const data = isObject(cm.data) ? cm.data : {};
  const binary = isObject(cm.binaryData) ? cm.binaryData : {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (k in binary) out.push(fieldErr.invalid(key("data", k), k, "duplicate of key present in binaryData"));
    size += Buffer.byteLength(typeof v === "string" ? v : String(v));
  }
  for (const v of Object.values(binary)) size += decodedLength(v);
  if (size > MAX_SECRET_SIZE) out.push(fieldErr.tooLong("", MAX_SECRET_SIZE));
  return out;
}

function immutableData(obj: JsonObject, old: JsonObject, fields: readonly string[]): Causes {
  if (old.immutable !== true) return [];
  const out: Causes = [];
  if (obj.immutable !== true)
    out.push(fieldErr.forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const f of fields) {
    if (!deepEqual(obj[f] ?? {}, old[f] ?? {}))
      out.push(fieldErr.forbidden(f, "field is immutable when `immutable` is set"));
  }
  return out;
}

export function validateConfigMapUpdate(cm: JsonObject, old: JsonObject): Causes {
  return immutableData(cm, old, ["data", "binaryData"]);
}

const REQUIRED_KEYS: Record<string, readonly string[]> = {
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
};

export function validateSecret(secret: JsonObject): Causes {
  const out: Causes = [...validateKeys(secret.data, "data")];
  const data = isObject(secret.data) ? secret.data : {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (!isBase64(v)) out.push(fieldErr.invalid(key("data", k), REDACTED, "must be base64-encoded bytes"));
    size += decodedLength(v);
  }
  if (size > MAX_SECRET_SIZE) out.push(fieldErr.tooLong("data", MAX_SECRET_SIZE));
  const type = typeof secret.type === "string" ? secret.type : "";
  if (type === "kubernetes.io/service-account-token") {
    const ann =
      isObject(secret.metadata) && isObject(secret.metadata.annotations) ? secret.metadata.annotations : {};
    if (!ann["kubernetes.io/service-account.name"]) {
      out.push(fieldErr.required(key("metadata.annotations", "kubernetes.io/service-account.name")));
    }
  } else if (type === "kubernetes.io/basic-auth") {
    if (!("username" in data) && !("password" in data)) {
      out.push(fieldErr.required(key("data", "username")), fieldErr.required(key("data", "password")));
    }
  } else {
    for (const k of REQUIRED_KEYS[type] ?? []) if (!(k in data)) out.push(fieldErr.required(key("data", k)));
    const jsonKey =
      type === "kubernetes.io/dockerconfigjson"
        ? ".dockerconfigjson"
        : type === "kubernetes.io/dockercfg"
          ? ".dockercfg"
          : "";
    if (jsonKey && typeof data[jsonKey] === "string") {
      try {
        JSON.parse(Buffer.from(data[jsonKey], "base64").toString("utf8"));
      } catch (e) {
        out.push(fieldErr.invalid(key("data", jsonKey), REDACTED, (e as Error).message));
      }
    }
  }
  return out;
}

export function validateSecretUpdate(secret: JsonObject, old: JsonObject): Causes {
  return [
    ...immutable(secret.type ?? "Opaque", old.type ?? "Opaque", "type"),
    ...immutableData(secret, old, ["data"]),
  ];
}
