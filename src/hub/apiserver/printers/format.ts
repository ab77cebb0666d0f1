/**
 * Cell formatting shared by the printers, each matching the apimachinery / k8s helper that
 * upstream's printers call (labels.FormatLabels, metav1.FormatLabelSelector,
 * helper.GetAccessModesAsString, layoutContainerCells, the "+ N more..." lists).
 *
 * Design notes:
 * - Go sorts with byte order; all inputs here are label keys/values and IPs (ASCII), for which
 *   JavaScript's default code-unit sort gives the same order.
 * - Quantities (capacity, quota) are printed as stored: the API layer canonicalises them on
 *   write, so re-parsing here would only cost time. A missing quantity prints as Go's zero
 *   Quantity does: "0".
 */
import type { LabelSelector } from "kubernetes-types/meta/v1";

/** labels.FormatLabels: "k=v,k2=v2" sorted, "<none>" when empty. */
export function formatLabels(m: Readonly<Record<string, string>> | undefined): string {
  const parts = Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`);
  parts.sort();
  return parts.length === 0 ? "<none>" : parts.join(",");
}

type Requirement = { key: string; text: string };

/**
 * metav1.LabelSelectorAsSelector(s).String(). undefined (nil) selects nothing and prints "";
 * an empty selector selects everything and also prints "". Returns null for an operator
 * upstream rejects, so callers can print their own error marker.
 */
export function labelSelectorString(sel: LabelSelector | undefined): string | null {
  if (!sel) return "";
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort();
    const list = values.length === 1 ? (values[0] ?? "") : values.join(",");
    switch (e.operator) {
      case "In":
        reqs.push({ key: e.key, text: `${e.key} in (${list})` });
        break;
      case "NotIn":
        reqs.push({ key: e.key, text: `${e.key} notin (${list})` });
        break;
      case "Exists":
        reqs.push({ key: e.key, text: e.key });
        break;
      case "DoesNotExist":
        reqs.push({ key: e.key, text: `!${e.key}` });
        break;
      default:
        return null;
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(",");
}

/** metav1.FormatLabelSelector: like labelSelectorString but "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  const s = labelSelectorString(sel);
  if (s === null) return "<error>";
  return s === "" ? "<none>" : s;
}

/** layoutContainerCells: container names and images, each comma-joined in spec order. */
export function layoutContainerCells(
  containers: readonly { name?: string; image?: string }[] | undefined,
): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? "").join(","), list.map((c) => c.image ?? "").join(",")];
}

const ACCESS_MODE_ABBREVIATIONS: readonly [string, string][] = [
  ["ReadWriteOnce", "RWO"],
  ["ReadOnlyMany", "ROX"],
  ["ReadWriteMany", "RWX"],
  ["ReadWriteOncePod", "RWOP"],
];

/** helper.GetAccessModesAsString: fixed order RWO,ROX,RWX,RWOP whatever the spec order, no duplicates. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const have = new Set(modes ?? []);
  return ACCESS_MODE_ABBREVIATIONS.filter(([m]) => have.has(m))
    .map(([, abbr]) => abbr)
    .join(",");
}

/** listWithMoreString: "a,b,c + 2 more..." for the first `max` items; "<unset>" when empty. */
export function listWithMore(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(",");
  if (items.length > max) return `${shown} + ${items.length - max} more...`;
  return shown === "" ? "<unset>" : shown;
}

/** intstr.IntOrString.String(). */
export function intOrString(v: number | string | undefined): string {
  if (v === undefined) return "0";
  return String(v);
}

/** resource.Quantity.String() of a possibly missing quantity. */
export function quantity(q: string | number | undefined): string {
  if (q === undefined || q === "") return "0";
  return String(q);
}

/** printBoolPtr: "True" / "False" / "<unset>". */
export function boolPtr(v: boolean | undefined): string {
  if (v === undefined) return "<unset>";
  return v ? "True" : "False";
}

/** Go's sets.NewString(...).List(): unique and sorted. */
export function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}
