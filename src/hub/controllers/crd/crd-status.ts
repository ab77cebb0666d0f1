/**
 * Pure CRD status logic (upstream apiextensions-apiserver's naming and establishing
 * controllers): which requested names conflict with other CRDs of the same group, the
 * NamesAccepted / Established / Terminating conditions, acceptedNames and storedVersions.
 *
 * Design notes
 * - Conflicts are checked against other CRDs' *accepted* names in the same group, as
 *   upstream does; a conflicting CRD keeps its previous acceptedNames (if any) and is not
 *   (re)served under the new names.
 * - lastTransitionTime moves only when a condition's status changes, so a steady state
 *   produces an identical status and no write.
 */
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1";
import { type CrdNames, specNames } from "../../apiserver/custom-resources/crd-resources.js";

export interface CrdCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface NamesVerdict {
  accepted: boolean;
  reason: string;
  message: string;
}

export function acceptedNamesOf(crd: CustomResourceDefinition): CrdNames | undefined {
  const a = crd.status?.acceptedNames;
  if (!a?.plural || !a.kind) return undefined;
  return {
    plural: a.plural,
    singular: a.singular ?? a.kind.toLowerCase(),
    kind: a.kind,
    listKind: a.listKind ?? `${a.kind}List`,
    shortNames: [...(a.shortNames ?? [])],
    categories: [...(a.categories ?? [])],
  };
}

/** Check the CRD's requested names against the accepted names of other CRDs in its group. */
export function checkNames(
  crd: CustomResourceDefinition,
  all: readonly CustomResourceDefinition[],
): NamesVerdict {
  const want = specNames(crd);
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const other of all) {
    if (other.metadata?.name === crd.metadata?.name || other.spec?.group !== crd.spec?.group) continue;
    const n = acceptedNamesOf(other);
    if (!n) continue;
    for (const r of [n.plural, n.singular, ...n.shortNames]) resources.add(r);
    kinds.add(n.kind);
    kinds.add(n.listKind);
  }
  const used = (v: string) => `"${v}" is already in use`;
  if (resources.has(want.plural))
    return { accepted: false, reason: "PluralConflict", message: used(want.plural) };
  if (resources.has(want.singular))
    return { accepted: false, reason: "SingularConflict", message: used(want.singular) };
  for (const s of want.shortNames)
    if (resources.has(s)) return { accepted: false, reason: "ShortNamesConflict", message: used(s) };
  if (kinds.has(want.kind)) return { accepted: false, reason: "KindConflict", message: used(want.kind) };
  if (kinds.has(want.listKind))
    return { accepted: false, reason: "ListKindConflict", message: used(want.listKind) };
  return { accepted: true, reason: "NoConflicts", message: "no conflicts found" };
}

/** Set a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conds: CrdCondition[], c: CrdCondition, now: string): CrdCondition[] {
  const prev = conds.find((x) => x.type === c.type);
  const next: CrdCondition = {
    ...c,
    lastTransitionTime: prev && prev.status === c.status ? (prev.lastTransitionTime ?? now) : now,
  };
  return [...conds.filter((x) => x.type !== c.type), next];
}

/** The status a live CRD should have, from its current status and the names verdict. */
export function desiredStatus(
  crd: CustomResourceDefinition,
  verdict: NamesVerdict,
  now: string,
): Record<string, unknown> {
  const cur = (crd.status ?? {}) as { conditions?: CrdCondition[]; storedVersions?: string[] };
  let conds = [...(cur.conditions ?? [])];
  conds = setCondition(
    conds,
    {
      type: "NamesAccepted",
      status: verdict.accepted ? "True" : "False",
      reason: verdict.reason,
      message: verdict.message,
    },
    now,
  );
  const established = conds.find((c) => c.type === "Established")?.status === "True";
  if (verdict.accepted || established) {
    conds = setCondition(
      conds,
      {
        type: "Established",
        status: "True",
        reason: "InitialNamesAccepted",
        message: "the initial names have been accepted",
      },
      now,
    );
  } else {
    conds = setCondition(
      conds,
      { type: "Established", status: "False", reason: "NotAccepted", message: "not all names are accepted" },
      now,
    );
  }
  const accepted = verdict.accepted ? specNames(crd) : acceptedNamesOf(crd);
  const storage = (crd.spec?.versions ?? []).find((v) => v.storage)?.name;
  const stored = [...(cur.storedVersions ?? [])];
  if (storage && !stored.includes(storage)) stored.push(storage);
  const order = ["NamesAccepted", "Established", "Terminating"];
  conds.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return {
    ...(crd.status ?? {}),
    conditions: conds,
    acceptedNames: accepted
      ? {
          plural: accepted.plural,
          singular: accepted.singular,
          kind: accepted.kind,
          listKind: accepted.listKind,
          ...(accepted.shortNames.length ? { shortNames: accepted.shortNames } : {}),
          ...(accepted.categories.length ? { categories: accepted.categories } : {}),
        }
      : { plural: "", kind: "" },
    storedVersions: stored,
  };
}
