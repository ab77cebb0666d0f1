/**
 * The join exchange (`POST /edgekube/v1/join`): wire types both roles agree on, and the hub's
 * validation of a request body. Pure: no I/O.
 *
 * Design notes
 * - Validation reports every problem as a field cause (like the API's 422 Invalid), so an agent
 *   that sends a bad name or taint hears exactly which field to fix.
 * - The node name must be a DNS-1123 subdomain: it becomes the Node's name, the certificate's CN
 *   and part of MQTT topic names (where `+ # /` would widen an ACL).
 * - Two credentials: a request with a `csr` gets a client certificate (`edge-agent join
 *   --client-cert`); one without gets a per-node MQTT password (the default; the hub stores only
 *   its hash: src/hub/edge/node-passwords.ts). An answer carries exactly one of the two.
 */
import type { StatusCause } from "./errors.js";
import { isDNS1123Subdomain, isQualifiedName, isValidIP, isValidLabelValue } from "./names.js";
import { isObject } from "./object.js";

export const JOIN_PATH = "/edgekube/v1/join";
export const CACERTS_PATH = "/cacerts";

export interface NodeFacts {
  architecture: string;
  operatingSystem: string;
  kernelVersion: string;
  osImage: string;
  containerRuntimeVersion: string;
  /** cores */
  cpu: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  /** max pods */
  pods: number;
  machineID: string;
  bootID: string;
  hostname: string;
}

export interface JoinTaint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface JoinRequest {
  nodeName: string;
  nodeIP: string;
  labels: Record<string, string>;
  taints: JoinTaint[];
  /** PEM PKCS#10, CN system:node:<nodeName>, O system:nodes; absent = ask for a password */
  csr?: string;
  facts: NodeFacts;
}

export interface JoinResponse {
  nodeName: string;
  /** PEM, signed by the cluster CA (the request carried a CSR) */
  clientCert?: string;
  /** the node's MQTT password, given out once (the request carried no CSR) */
  password?: string;
  /** cluster CA, PEM */
  ca: string;
  mqtt: { url: string; wsUrl: string };
  podCIDR?: string;
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
}

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const STRING_FACTS = [
  "architecture",
  "operatingSystem",
  "kernelVersion",
  "osImage",
  "containerRuntimeVersion",
  "machineID",
  "bootID",
  "hostname",
] as const;
const NUMBER_FACTS = ["cpu", "memoryBytes", "ephemeralStorageBytes", "pods"] as const;

function cause(field: string, message: string, reason: StatusCause["reason"] = "FieldValueInvalid") {
  return { reason, field, message };
}

/** A typed request, or the list of what is wrong with the body. */
export function validateJoinRequest(body: unknown): { request: JoinRequest } | { causes: StatusCause[] } {
  const causes: StatusCause[] = [];
  if (!isObject(body)) return { causes: [cause("", "the join request must be a JSON object")] };
  const str = (field: string): string => {
    const v = body[field];
    if (typeof v === "string" && v !== "") return v;
    causes.push(cause(field, "Required value", "FieldValueRequired"));
    return "";
  };
  const nodeName = str("nodeName");
  if (nodeName) {
    for (const m of isDNS1123Subdomain(nodeName))
      causes.push(cause("nodeName", `Invalid value: "${nodeName}": ${m}`));
  }
  const nodeIP = str("nodeIP");
  if (nodeIP)
    for (const m of isValidIP(nodeIP)) causes.push(cause("nodeIP", `Invalid value: "${nodeIP}": ${m}`));
  let csr: string | undefined;
  if (body.csr !== undefined) {
    if (typeof body.csr === "string" && body.csr !== "") csr = body.csr;
    else causes.push(cause("csr", "must be a PEM certificate request; leave it out to be given a password"));
  }

  const labels: Record<string, string> = {};
  const rawLabels = body.labels ?? {};
  if (!isObject(rawLabels)) causes.push(cause("labels", "must be an object of strings"));
  else {
    for (const [k, v] of Object.entries(rawLabels)) {
      if (typeof v !== "string") {
        causes.push(cause(`labels.${k}`, "must be a string"));
        continue;
      }
      for (const m of isQualifiedName(k.includes("/") ? k.slice(k.indexOf("/") + 1) : k)) {
        causes.push(cause(`labels`, `Invalid value: "${k}": ${m}`));
      }
      for (const m of isValidLabelValue(v)) causes.push(cause(`labels.${k}`, `Invalid value: "${v}": ${m}`));
      labels[k] = v;
    }
  }

  const taints: JoinTaint[] = [];
  const rawTaints = body.taints ?? [];
  if (!Array.isArray(rawTaints)) causes.push(cause("taints", "must be a list of {key, value, effect}"));
  else {
    rawTaints.forEach((t: unknown, i) => {
      const f = `taints[${i}]`;
      if (!isObject(t) || typeof t.key !== "string" || t.key === "") {
        causes.push(cause(`${f}.key`, "Required value", "FieldValueRequired"));
        return;
      }
      if (typeof t.effect !== "string" || !TAINT_EFFECTS.includes(t.effect)) {
        causes.push(
          cause(
            `${f}.effect`,
            `Unsupported value: ${JSON.stringify(t.effect)}: supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
            "FieldValueNotSupported",
          ),
        );
        return;
      }
      if (t.value !== undefined && typeof t.value !== "string") {
        causes.push(cause(`${f}.value`, "must be a string"));
        return;
      }
      taints.push({
        key: t.key,
        ...(typeof t.value === "string" && t.value !== "" ? { value: t.value } : {}),
        effect: t.effect as JoinTaint["effect"],
      });
    });
  }

  const facts = {} as Record<string, string | number>;
  const rawFacts = body.facts;
  if (!isObject(rawFacts)) causes.push(cause("facts", "Required value", "FieldValueRequired"));
  else {
    for (const k of STRING_FACTS) {
      const v = rawFacts[k] ?? "";
      if (typeof v !== "string") causes.push(cause(`facts.${k}`, "must be a string"));
      else facts[k] = v;
    }
    for (const k of NUMBER_FACTS) {
      const v = rawFacts[k];
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        causes.push(cause(`facts.${k}`, "must be a non-negative number"));
      } else facts[k] = v;
    }
  }
  if (causes.length > 0) return { causes };
  return {
    request: {
      nodeName,
      nodeIP,
      labels,
      taints,
      ...(csr ? { csr } : {}),
      facts: facts as unknown as NodeFacts,
    },
  };
}
