/**
 * Defaults for the non-workload kinds: Service, Secret, PVC/PV, Namespace, StorageClass,
 * Endpoints, EndpointSlice, Node and the RBAC bindings.
 *
 * Design notes:
 * - Besides defaults.go, a few values come from registry strategies that a real apiserver
 *   applies on every create (Namespace `spec.finalizers: [kubernetes]` and `status.phase`,
 *   Service `ipFamilies`/`ipFamilyPolicy`, Secret `stringData` folded into `data`): clients
 *   see them on read-back, so they belong here rather than in each handler.
 * - This hub is single-stack IPv4 (service CIDR 10.43.0.0/16), hence `ipFamilies: [IPv4]`.
 */

import { ensureObject, objAt, objectsAt, setDefault } from "../json-access.js";
import type { JsonObject } from "../object.js";
import { isObject } from "../object.js";

export function setServiceDefaults(svc: JsonObject): void {
  const spec = ensureObject(svc, "spec");
  setDefault(spec, "sessionAffinity", "None");
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "ClientIP") {
    const cip = ensureObject(ensureObject(spec, "sessionAffinityConfig"), "clientIP");
    setDefault(cip, "timeoutSeconds", 10800);
  }
  setDefault(spec, "type", "ClusterIP");
  for (const p of objectsAt(spec.ports)) {
    setDefault(p, "protocol", "TCP");
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === "") {
      p.targetPort = p.port;
    }
  }
  const type = spec.type;
  const externalIPs = Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0;
  if (type === "NodePort" || type === "LoadBalancer" || (type === "ClusterIP" && externalIPs)) {
    setDefault(spec, "externalTrafficPolicy", "Cluster");
  }
  if (type === "NodePort" || type === "LoadBalancer" || type === "ClusterIP") {
    setDefault(spec, "internalTrafficPolicy", "Cluster");
  }
  if (type === "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
  if (type !== "ExternalName") {
    if (typeof spec.clusterIP === "string" && spec.clusterIP !== "" && !Array.isArray(spec.clusterIPs)) {
      spec.clusterIPs = [spec.clusterIP];
    }
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ["IPv4"];
  }
}

export function setSecretDefaults(secret: JsonObject): void {
  setDefault(secret, "type", "Opaque");
  // v1 conversion: stringData is write-only and wins over data for the same key
  if (isObject(secret.stringData)) {
    const data = ensureObject(secret, "data");
    for (const [k, v] of Object.entries(secret.stringData)) {
      data[k] = Buffer.from(String(v), "utf8").toString("base64");
    }
    delete secret.stringData;
  }
}

export function setPvcDefaults(pvc: JsonObject): void {
  setDefault(ensureObject(pvc, "spec"), "volumeMode", "Filesystem");
  setDefault(ensureObject(pvc, "status"), "phase", "Pending");
}

export function setPvDefaults(pv: JsonObject): void {
  const spec = ensureObject(pv, "spec");
  setDefault(spec, "persistentVolumeReclaimPolicy", "Retain");
  setDefault(spec, "volumeMode", "Filesystem");
  if (isObject(spec.hostPath)) setDefault(spec.hostPath, "type", "");
  setDefault(ensureObject(pv, "status"), "phase", "Pending");
}

export function setNamespaceDefaults(ns: JsonObject): void {
  const spec = ensureObject(ns, "spec");
  if (!Array.isArray(spec.finalizers)) spec.finalizers = ["kubernetes"];
  setDefault(ensureObject(ns, "status"), "phase", "Active");
}

export function setStorageClassDefaults(sc: JsonObject): void {
  setDefault(sc, "reclaimPolicy", "Delete");
  setDefault(sc, "volumeBindingMode", "Immediate");
}

export function setEndpointsDefaults(ep: JsonObject): void {
  for (const s of objectsAt(ep.subsets)) for (const p of objectsAt(s.ports)) setDefault(p, "protocol", "TCP");
}

export function setEndpointSliceDefaults(es: JsonObject): void {
  for (const p of objectsAt(es.ports)) {
    if (p.name === undefined || p.name === null) p.name = "";
    setDefault(p, "protocol", "TCP");
  }
}

export function setNodeDefaults(node: JsonObject): void {
  const status = objAt(node.status);
  if (isObject(status.capacity) && !isObject(status.allocatable)) status.allocatable = { ...status.capacity };
}

/** rbac/v1: roleRef and User/Group subjects default to the RBAC API group */
export function setRoleBindingDefaults(rb: JsonObject): void {
  if (isObject(rb.roleRef)) setDefault(rb.roleRef, "apiGroup", "rbac.authorization.k8s.io");
  for (const s of objectsAt(rb.subjects)) {
    if (s.apiGroup !== undefined && s.apiGroup !== "") continue;
    if (s.kind === "User" || s.kind === "Group") s.apiGroup = "rbac.authorization.k8s.io";
    else if (s.kind === "ServiceAccount") s.apiGroup = "";
  }
}
