/**
 * Validation of cluster-level and coordination kinds: Namespace, Node (create and update),
 * Event, Lease, PodDisruptionBudget and the RBAC kinds.
 *
 * Design notes:
 * - RBAC rules need verbs, and resource rules need apiGroups and resources; an empty rule
 *   would otherwise silently grant nothing and confuse whoever wrote it.
 * - A binding's roleRef can never change (upstream: delete and recreate), because permission
 *   caches and audit trails key on it.
 * - A Node's podCIDR may only go from "" to a value: the agent's overlay routes are built on it.
 */
import { fieldErr } from "../errors.js";
import { isDNS1123Subdomain, isValidCIDR, isValidLabelValue, isValidPathSegmentName } from "../names.js";
import { isObject, type JsonObject } from "../object.js";
import { validateLabelName, validateLabelSelector } from "./labels.js";
import { type Causes, child, deepEqual, index, intOrPercent, isSet, nonNegative, oneOf } from "./util.js";

const RBAC_GROUP = "rbac.authorization.k8s.io";
const specOf = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});

export function validateNamespace(ns: JsonObject): Causes {
  const out: Causes = [];
  const finalizers = Array.isArray(specOf(ns).finalizers) ? (specOf(ns).finalizers as unknown[]) : [];
  for (const f of finalizers.map(String)) {
    out.push(...validateLabelName(f, "spec.finalizers"));
    if (!f.includes("/") && f !== "kubernetes") {
      out.push(
        fieldErr.invalid(
          "spec.finalizers",
          f,
          "name is neither a standard finalizer name nor is it fully qualified",
        ),
      );
    }
  }
  return out;
}

export function validateNode(node: JsonObject): Causes {
  const spec = specOf(node);
  const out: Causes = [];
  const seen = new Set<string>();
  (Array.isArray(spec.taints) ? spec.taints : []).forEach((raw, i) => {
    const t = isObject(raw) ? raw : {};
    const p = index("spec.taints", i);
    out.push(...validateLabelName(typeof t.key === "string" ? t.key : "", child(p, "key")));
    const value = typeof t.value === "string" ? t.value : "";
    const errs = isValidLabelValue(value);
    if (errs.length > 0) out.push(fieldErr.invalid(child(p, "value"), value, errs.join(";")));
    out.push(...oneOf(t.effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"], child(p, "effect")));
    const k = `${String(t.key)}\u0000${String(t.effect)}`;
    if (seen.has(k)) {
      out.push({
        reason: "FieldValueDuplicate",
        field: p,
        message: `Duplicate value: ${JSON.stringify(t)}: taints must be unique by key and effect pair`,
      });
    }
    seen.add(k);
  });
  const cidrs = Array.isArray(spec.podCIDRs) ? spec.podCIDRs.map(String) : [];
  cidrs.forEach((c, i) => {
    for (const m of isValidCIDR(c)) out.push(fieldErr.invalid(index("spec.podCIDRs", i), c, m));
  });
  if (
    typeof spec.podCIDR === "string" &&
    spec.podCIDR !== "" &&
    cidrs.length > 0 &&
    cidrs[0] !== spec.podCIDR
  ) {
    out.push(fieldErr.invalid("spec.podCIDR", spec.podCIDR, "must match the first entry of `spec.podCIDRs`"));
  }
  return out;
}

export function validateNodeUpdate(node: JsonObject, old: JsonObject): Causes {
  const a = specOf(node);
  const b = specOf(old);
  const out: Causes = [];
  const prevCidrs = Array.isArray(b.podCIDRs) ? b.podCIDRs : [];
  if (prevCidrs.length > 0 && !deepEqual(a.podCIDRs, b.podCIDRs)) {
    out.push(
      fieldErr.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'),
    );
  }
  if (typeof b.providerID === "string" && b.providerID !== "" && a.providerID !== b.providerID) {
    out.push(
      fieldErr.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'),
    );
  }
  return out;
}

export function validateEvent(ev: JsonObject): Causes {
  const ns = isObject(ev.metadata) && typeof ev.metadata.namespace === "string" ? ev.metadata.namespace : "";
  const io = isObject(ev.involvedObject) ? ev.involvedObject : {};
  const ions = typeof io.namespace === "string" ? io.namespace : "";
  const ok = ions === "" ? ns === "" || ns === "default" : ns === ions;
  return ok ? [] : [fieldErr.invalid("involvedObject.namespace", ions, "does not match event.namespace")];
}

export function validateLease(lease: JsonObject): Causes {
  const spec = specOf(lease);
  const out: Causes = [...nonNegative(spec.leaseTransitions, "spec.leaseTransitions")];
  if (
    isSet(spec.leaseDurationSeconds) &&
    (typeof spec.leaseDurationSeconds !== "number" || spec.leaseDurationSeconds <= 0)
  ) {
    out.push(
      fieldErr.invalid("spec.leaseDurationSeconds", spec.leaseDurationSeconds, "must be greater than 0"),
    );
  }
  return out;
}

export function validatePodDisruptionBudget(pdb: JsonObject): Causes {
  const spec = specOf(pdb);
  const out: Causes = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) {
    out.push(fieldErr.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
  }
  out.push(...intOrPercent(spec.minAvailable, "spec.minAvailable"));
  out.push(...intOrPercent(spec.maxUnavailable, "spec.maxUnavailable"));
  out.push(...validateLabelSelector(spec.selector, "spec.selector"));
  out.push(
    ...oneOf(
      spec.unhealthyPodEvictionPolicy,
      ["AlwaysAllow", "IfHealthyBudget"],
      "spec.unhealthyPodEvictionPolicy",
      false,
    ),
  );
  return out;
}

function validatePolicyRule(rule: unknown, namespaced: boolean, path: string): Causes {
  const r = isObject(rule) ? rule : {};
  const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
  const out: Causes = [];
  if (len(r.verbs) === 0)
    out.push(fieldErr.required(child(path, "verbs"), "verbs must contain at least one value"));
  if (len(r.nonResourceURLs) > 0) {
    if (namespaced) {
      out.push(
        fieldErr.invalid(
          child(path, "nonResourceURLs"),
          r.nonResourceURLs,
          "namespaced rules cannot apply to non-resource URLs",
        ),
      );
    }
    if (len(r.apiGroups) > 0 || len(r.resources) > 0 || len(r.resourceNames) > 0) {
      out.push(
        fieldErr.invalid(
          child(path, "nonResourceURLs"),
          r.nonResourceURLs,
          "rules cannot apply to both regular resources and non-resource URLs",
        ),
      );
    }
    return out;
  }
  if (len(r.apiGroups) === 0)
    out.push(
      fieldErr.required(child(path, "apiGroups"), "resource rules must supply at least one api group"),
    );
  if (len(r.resources) === 0)
    out.push(fieldErr.required(child(path, "resources"), "resource rules must supply at least one resource"));
  return out;
}

export function validateRole(role: JsonObject, namespaced: boolean): Causes {
  const rules = Array.isArray(role.rules) ? role.rules : [];
  return rules.flatMap((r, i) => validatePolicyRule(r, namespaced, index("rules", i)));
}

export function validateRoleBinding(rb: JsonObject, namespaced: boolean): Causes {
  const out: Causes = [];
  const ref = isObject(rb.roleRef) ? rb.roleRef : {};
  if (ref.apiGroup !== RBAC_GROUP)
    out.push(fieldErr.notSupported("roleRef.apiGroup", ref.apiGroup ?? "", [RBAC_GROUP]));
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(String(ref.kind)))
    out.push(fieldErr.notSupported("roleRef.kind", ref.kind ?? "", kinds));
  const name = typeof ref.name === "string" ? ref.name : "";
  if (name === "") out.push(fieldErr.required("roleRef.name"));
  else for (const m of isValidPathSegmentName(name)) out.push(fieldErr.invalid("roleRef.name", name, m));
  (Array.isArray(rb.subjects) ? rb.subjects : []).forEach((raw, i) => {
    const s = isObject(raw) ? raw : {};
    const p = index("subjects", i);
    const sname = typeof s.name === "string" ? s.name : "";
    const apiGroup = typeof s.apiGroup === "string" ? s.apiGroup : "";
    if (sname === "") out.push(fieldErr.required(child(p, "name")));
    if (s.kind === "ServiceAccount") {
      if (sname !== "")
        for (const m of isDNS1123Subdomain(sname)) out.push(fieldErr.invalid(child(p, "name"), sname, m));
      if (apiGroup !== "") out.push(fieldErr.notSupported(child(p, "apiGroup"), apiGroup, [""]));
      if (!namespaced && !s.namespace) out.push(fieldErr.required(child(p, "namespace")));
    } else if (s.kind === "User" || s.kind === "Group") {
      if (apiGroup !== RBAC_GROUP)
        out.push(fieldErr.notSupported(child(p, "apiGroup"), apiGroup, [RBAC_GROUP]));
    } else {
      out.push(fieldErr.notSupported(child(p, "kind"), s.kind ?? "", ["ServiceAccount", "User", "Group"]));
    }
  });
  return out;
}

export function validateRoleBindingUpdate(rb: JsonObject, old: JsonObject): Causes {
  if (deepEqual(rb.roleRef, old.roleRef)) return [];
  return [fieldErr.invalid("roleRef", rb.roleRef, "cannot change roleRef")];
}
