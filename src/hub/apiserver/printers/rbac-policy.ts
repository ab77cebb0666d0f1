/**
 * Printers for rbac.authorization.k8s.io role bindings, policy poddisruptionbudgets and
 * coordination.k8s.io leases (upstream printers.go v1.32). Roles and cluster roles have no
 * upstream printer: they use the default Name / Created At table.
 *
 * Design notes:
 * - Binding subjects split as rbac.SubjectsStrings does: users and groups by name, service
 *   accounts as "namespace/name", joined with ", " (comma and space, unlike most lists).
 */
import type { Lease } from "kubernetes-types/coordination/v1";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import type { ClusterRoleBinding, RoleBinding, Subject } from "kubernetes-types/rbac/v1";
import type { KubeObject } from "../../../api/object.js";
import type { ColumnDefinition } from "../resource-info.js";
import { D } from "./descriptions.js";
import { AGE_COLUMN, ageOf, column, NAME_COLUMN, nameOf, printer, wide } from "./printer.js";

function subjectsStrings(subjects: readonly Subject[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === "ServiceAccount") sas.push(`${s.namespace ?? ""}/${s.name}`);
    else if (s.kind === "User") users.push(s.name);
    else if (s.kind === "Group") groups.push(s.name);
  }
  return [users.join(", "), groups.join(", "), sas.join(", ")];
}

function bindingCells(b: (RoleBinding | ClusterRoleBinding) & KubeObject, now: Date): unknown[] {
  const [users, groups, sas] = subjectsStrings(b.subjects);
  return [nameOf(b), `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`, ageOf(b, now), users, groups, sas];
}

/** both binding printers: the subject columns' descriptions name the kind ("roleBinding") */
function bindingColumns(roleRefDescription: string, kind: string): ColumnDefinition[] {
  return [
    NAME_COLUMN,
    column("Role", "string", roleRefDescription),
    AGE_COLUMN,
    wide("Users", "string", `Users in the ${kind}`),
    wide("Groups", "string", `Groups in the ${kind}`),
    wide("ServiceAccounts", "string", `ServiceAccounts in the ${kind}`),
  ];
}

export const roleBindingPrinter = printer<RoleBinding>(
  bindingColumns(D.roleBindingRoleRef, "roleBinding"),
  bindingCells,
);

export const clusterRoleBindingPrinter = printer<ClusterRoleBinding>(
  bindingColumns(D.clusterRoleBindingRoleRef, "clusterRoleBinding"),
  bindingCells,
);

export const podDisruptionBudgetPrinter = printer<PodDisruptionBudget>(
  [
    NAME_COLUMN,
    column("Min Available", "string", "The minimum number of pods that must be available."),
    column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE_COLUMN,
  ],
  (pdb, now) => {
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return [
      nameOf(pdb),
      min === undefined || min === null ? "N/A" : String(min),
      max === undefined || max === null ? "N/A" : String(max),
      pdb.status?.disruptionsAllowed ?? 0,
      ageOf(pdb, now),
    ];
  },
);

export const leasePrinter = printer<Lease>(
  [NAME_COLUMN, column("Holder", "string", D.leaseSpecHolderIdentity), AGE_COLUMN],
  (lease, now) => [nameOf(lease), lease.spec?.holderIdentity ?? "", ageOf(lease, now)],
);
