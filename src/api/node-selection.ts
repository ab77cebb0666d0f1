/**
 * Node selection rules shared by the scheduler, the DaemonSet controller and PV binding:
 * one NodeSelectorRequirement against a value (upstream's nodeaffinity / labels.Selector
 * semantics) and one toleration against one taint (upstream's ToleratesTaint).
 */

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** In/NotIn/Exists/DoesNotExist/Gt/Lt; `value` undefined = the label or field is absent */
export function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const vals = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && vals.includes(value);
    case "NotIn":
      return value === undefined || !vals.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || vals.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(vals[0] ?? "", 10);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return r.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** an empty effect tolerates every effect; Exists with no key tolerates every taint */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === "Exists") return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
}
