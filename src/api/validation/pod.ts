/**
 * PodSpec, Pod and PodTemplateSpec validation, and the Pod update rule (core/validation
 * ValidatePodSpec, ValidatePodUpdate).
 *
 * Design notes:
 * - Pod updates: upstream "munges" the few mutable fields (images, activeDeadlineSeconds,
 *   added tolerations, terminationGracePeriodSeconds from negative to 1) into the new spec,
 *   then requires the rest to equal the old spec. We do the same and append a short diff of
 *   the top-level fields that differ, where upstream appends a Go cmp.Diff.
 * - Fields that defaulting always fills (restartPolicy, dnsPolicy, protocols) are checked for
 *   supported values but not required, so a caller that validates before defaulting gets
 *   only real errors.
 */

import { VOLUME_SOURCE_KEYS } from "../defaults/pod.js";
import { fieldErr } from "../errors.js";
import { inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isValidLabelValue } from "../names.js";
import { isObject, type JsonObject } from "../object.js";
import { validateContainer } from "./container.js";
import { validateLabelName, validateLabels } from "./labels.js";
import { validateObjectMetaUpdate } from "./metadata.js";
import { type Causes, child, deepEqual, index, isSet, oneOf } from "./util.js";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"] as const;
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
const MAX_INT32 = 2147483647;

function validateVolumes(volumes: unknown, path: string): { causes: Causes; names: Set<string> } {
  const out: Causes = [];
  const names = new Set<string>();
  (Array.isArray(volumes) ? volumes : []).forEach((raw, i) => {
    const v = isObject(raw) ? raw : {};
    const ip = index(path, i);
    const sources = VOLUME_SOURCE_KEYS.filter((k) => isSet(v[k]));
    if (sources.length === 0) out.push(fieldErr.required(ip, "must specify a volume type"));
    for (const extra of sources.slice(1)) {
      out.push(fieldErr.forbidden(child(ip, extra), "may not specify more than 1 volume type"));
    }
    const name = typeof v.name === "string" ? v.name : "";
    if (name === "") out.push(fieldErr.required(child(ip, "name")));
    else for (const m of isDNS1123Label(name)) out.push(fieldErr.invalid(child(ip, "name"), name, m));
    if (names.has(name)) out.push(fieldErr.duplicate(child(ip, "name"), name));
    names.add(name);
    const need = (src: string, field: string): void => {
      const s = v[src];
      if (isObject(s) && (typeof s[field] !== "string" || s[field] === ""))
        out.push(fieldErr.required(child(ip, src, field)));
    };
    need("configMap", "name");
    need("secret", "secretName");
    need("persistentVolumeClaim", "claimName");
    need("hostPath", "path");
    need("nfs", "server");
    need("nfs", "path");
    for (const src of ["configMap", "secret", "downwardAPI", "projected"]) {
      const s = v[src];
      if (isObject(s) && isSet(s.defaultMode)) {
        const mode = s.defaultMode;
        if (typeof mode !== "number" || mode < 0 || mode > 0o777) {
          out.push(
            fieldErr.invalid(
              child(ip, src, "defaultMode"),
              mode,
              "must be a number between 0 and 0777 (octal), both inclusive",
            ),
          );
        }
      }
    }
    if (isObject(v.hostPath)) {
      const types = [
        "",
        "DirectoryOrCreate",
        "Directory",
        "FileOrCreate",
        "File",
        "Socket",
        "CharDevice",
        "BlockDevice",
      ];
      out.push(...oneOf(v.hostPath.type, types.slice(1), child(ip, "hostPath", "type"), false));
    }
  });
  return { causes: out, names };
}

export function validateTolerations(tolerations: unknown, path: string): Causes {
  const out: Causes = [];
  (Array.isArray(tolerations) ? tolerations : []).forEach((raw, i) => {
    const t = isObject(raw) ? raw : {};
    const ip = index(path, i);
    const k = typeof t.key === "string" ? t.key : "";
    const op = typeof t.operator === "string" ? t.operator : "";
    if (k !== "") out.push(...validateLabelName(k, child(ip, "key")));
    if (k === "" && op !== "Exists") {
      out.push(
        fieldErr.invalid(
          child(ip, "operator"),
          op,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (isSet(t.tolerationSeconds) && t.effect !== "NoExecute") {
      out.push(
        fieldErr.invalid(
          child(ip, "effect"),
          t.effect ?? "",
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    }
    const value = typeof t.value === "string" ? t.value : "";
    if (op === "Equal" || op === "") {
      const errs = isValidLabelValue(value);
      if (errs.length > 0) out.push(fieldErr.invalid(child(ip, "operator"), value, errs.join(";")));
    } else if (op === "Exists") {
      if (value !== "")
        out.push(
          fieldErr.invalid(child(ip, "operator"), t, "value must be empty when `operator` is 'Exists'"),
        );
    } else {
      out.push(fieldErr.notSupported(child(ip, "operator"), op, ["Equal", "Exists"]));
    }
    out.push(...oneOf(t.effect, TAINT_EFFECTS, child(ip, "effect"), false));
  });
  return out;
}

export interface PodSpecOptions {
  /** Job templates leave restartPolicy to the Job's own rule */
  readonly skipRestartPolicy?: boolean;
}

export function validatePodSpec(specRaw: unknown, path: string, opts: PodSpecOptions = {}): Causes {
  const spec = isObject(specRaw) ? specRaw : {};
  const { causes, names: volumes } = validateVolumes(spec.volumes, child(path, "volumes"));
  const out: Causes = [...causes];
  const names = new Set<string>();
  const init = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  init.forEach((c, i) => {
    out.push(
      ...validateContainer(c, index(child(path, "initContainers"), i), { volumes, names, init: true }),
    );
  });
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) out.push(fieldErr.required(child(path, "containers")));
  containers.forEach((c, i) => {
    out.push(...validateContainer(c, index(child(path, "containers"), i), { volumes, names, init: false }));
  });
  if (!opts.skipRestartPolicy)
    out.push(...oneOf(spec.restartPolicy, RESTART_POLICIES, child(path, "restartPolicy"), false));
  out.push(...oneOf(spec.dnsPolicy, DNS_POLICIES, child(path, "dnsPolicy"), false));
  if (spec.dnsPolicy === "None" && !isObject(spec.dnsConfig)) {
    out.push(
      fieldErr.required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"),
    );
  }
  out.push(...validateLabels(spec.nodeSelector, child(path, "nodeSelector")));
  const subdomainField = (f: string): void => {
    const v = spec[f];
    if (typeof v === "string" && v !== "")
      for (const m of isDNS1123Subdomain(v)) out.push(fieldErr.invalid(child(path, f), v, m));
  };
  subdomainField("serviceAccountName");
  subdomainField("nodeName");
  subdomainField("priorityClassName");
  for (const f of ["hostname", "subdomain"]) {
    const v = spec[f];
    if (typeof v === "string" && v !== "")
      for (const m of isDNS1123Label(v)) out.push(fieldErr.invalid(child(path, f), v, m));
  }
  if (isSet(spec.activeDeadlineSeconds)) {
    const v = spec.activeDeadlineSeconds;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_INT32) {
      out.push(fieldErr.invalid(child(path, "activeDeadlineSeconds"), v, inclusiveRangeError(1, MAX_INT32)));
    }
  }
  out.push(...validateTolerations(spec.tolerations, child(path, "tolerations")));
  (Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : []).forEach((s, i) => {
    if (!isObject(s) || typeof s.name !== "string" || s.name === "") {
      out.push(fieldErr.required(child(index(child(path, "imagePullSecrets"), i), "name")));
    }
  });
  if (spec.hostNetwork === true) {
    containers.forEach((c, i) => {
      const ports = isObject(c) && Array.isArray(c.ports) ? c.ports : [];
      ports.forEach((p, j) => {
        if (isObject(p) && isSet(p.hostPort) && p.hostPort !== p.containerPort) {
          const pp = child(index(child(index(child(path, "containers"), i), "ports"), j), "hostPort");
          out.push(fieldErr.invalid(pp, p.hostPort, "must match `containerPort` when `hostNetwork` is true"));
        }
      });
    });
  }
  return out;
}

export function validatePodTemplateSpec(template: unknown, path: string, opts: PodSpecOptions = {}): Causes {
  if (!isObject(template)) return [fieldErr.required(path)];
  const meta = isObject(template.metadata) ? template.metadata : {};
  return [
    ...validateLabels(meta.labels, child(path, "metadata", "labels")),
    ...validatePodSpec(template.spec, child(path, "spec"), opts),
  ];
}

const UPDATABLE_POD_FIELDS = [
  "`spec.containers[*].image`",
  "`spec.initContainers[*].image`",
  "`spec.activeDeadlineSeconds`",
  "`spec.tolerations` (only additions to existing tolerations)",
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
].join(",");

const goName = (k: string): string => k.charAt(0).toUpperCase() + k.slice(1);

function specDiff(oldSpec: JsonObject, newSpec: JsonObject): string {
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  const lines = ["  core.PodSpec{"];
  for (const k of keys) {
    if (deepEqual(oldSpec[k], newSpec[k])) continue;
    if (isSet(oldSpec[k])) lines.push(`- \t${goName(k)}: ${JSON.stringify(oldSpec[k])},`);
    if (isSet(newSpec[k])) lines.push(`+ \t${goName(k)}: ${JSON.stringify(newSpec[k])},`);
  }
  lines.push("  }");
  return lines.join("\n");
}

function onlyAddedTolerations(next: unknown, prev: unknown, path: string): Causes {
  const n = (Array.isArray(next) ? next : []).filter(isObject);
  for (const o of (Array.isArray(prev) ? prev : []).filter(isObject)) {
    const found = n.some((t) => deepEqual({ ...o, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found)
      return [
        fieldErr.forbidden(path, "existing toleration can not be modified except its tolerationSeconds"),
      ];
  }
  return [];
}

/** ValidatePodUpdate (the new pod's own spec is validated separately) */
export function validatePodUpdate(pod: JsonObject, old: JsonObject): Causes {
  const out: Causes = [...validateObjectMetaUpdate(pod.metadata, old.metadata)];
  const spec = isObject(pod.spec) ? pod.spec : {};
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const munged: JsonObject = structuredClone(spec);
  for (const list of ["containers", "initContainers"]) {
    const n = Array.isArray(munged[list]) ? (munged[list] as unknown[]) : [];
    const o = Array.isArray(oldSpec[list]) ? (oldSpec[list] as unknown[]) : [];
    if (n.length !== o.length) {
      return [
        ...out,
        fieldErr.forbidden(child("spec", list), "pod updates may not add or remove containers"),
      ];
    }
    n.forEach((c, i) => {
      const oc = o[i];
      if (isObject(c) && isObject(oc)) c.image = oc.image;
    });
  }
  const nAds = spec.activeDeadlineSeconds;
  const oAds = oldSpec.activeDeadlineSeconds;
  if (isSet(nAds)) {
    if (typeof nAds !== "number" || nAds < 0 || nAds > MAX_INT32) {
      return [
        ...out,
        fieldErr.invalid("spec.activeDeadlineSeconds", nAds, inclusiveRangeError(0, MAX_INT32)),
      ];
    }
    if (typeof oAds === "number" && oAds < nAds) {
      return [
        ...out,
        fieldErr.invalid("spec.activeDeadlineSeconds", nAds, "must be less than or equal to previous value"),
      ];
    }
  } else if (isSet(oAds)) {
    out.push(
      fieldErr.invalid(
        "spec.activeDeadlineSeconds",
        null,
        "must not update from a positive integer to nil value",
      ),
    );
  }
  munged.activeDeadlineSeconds = oAds;
  out.push(...onlyAddedTolerations(spec.tolerations, oldSpec.tolerations, "spec.tolerations"));
  munged.tolerations = oldSpec.tolerations;
  const oTgp = oldSpec.terminationGracePeriodSeconds;
  if (typeof oTgp === "number" && oTgp < 0 && spec.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oTgp;
  }
  if (!deepEqual(munged, oldSpec)) {
    out.push(
      fieldErr.forbidden(
        "spec",
        `pod updates may not change fields other than ${UPDATABLE_POD_FIELDS}\n${specDiff(oldSpec, munged)}`,
      ),
    );
  }
  return out;
}
