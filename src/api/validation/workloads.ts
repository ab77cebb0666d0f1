/**
 * apps/v1 workload validation (Deployment, ReplicaSet, DaemonSet, StatefulSet) and core/v1
 * ReplicationController, on create and update.
 *
 * Design notes:
 * - All four apps kinds share one shape: a required, non-empty selector that must select the
 *   template's labels, and a template whose restartPolicy is Always. `validateSelectedTemplate`
 *   holds that rule once, with upstream's per-kind wording ("empty selector is invalid for
 *   deployment" — ReplicaSet reuses that text upstream too).
 * - Selectors are immutable in apps/v1; StatefulSet goes further and freezes every spec field
 *   except the handful upstream lists.
 */
import { fieldErr } from "../errors.js";
import { isObject, type JsonObject } from "../object.js";
import { labelSelectorMatcher, SelectorError } from "../selectors.js";
import { validateLabelSelector } from "./labels.js";
import { validatePodTemplateSpec } from "./pod.js";
import {
  type Causes,
  child,
  deepEqual,
  goMap,
  goSelector,
  immutable,
  intOrPercent,
  isSet,
  nonNegative,
  oneOf,
  percentOrInt,
} from "./util.js";

const templateLabels = (template: unknown): unknown =>
  isObject(template) && isObject(template.metadata) ? template.metadata.labels : undefined;

/**
 * `spec.selector` must select the template's labels (apps and batch alike); a selector that
 * does not parse is reported as invalid instead.
 */
export function selectorSelectsTemplate(sel: unknown, template: unknown, path: string): Causes {
  try {
    const matcher = labelSelectorMatcher(sel);
    const labels = templateLabels(template);
    const plain = isObject(labels) ? (labels as Record<string, string>) : {};
    if (matcher.everything || matcher.matches(plain)) return [];
    return [
      fieldErr.invalidRendered(
        child(path, "template", "metadata", "labels"),
        goMap(labels),
        "`selector` does not match template `labels`",
      ),
    ];
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    return [fieldErr.invalidRendered(child(path, "selector"), goSelector(sel), "invalid label selector")];
  }
}

/** selector required and non-empty, selects the template, template restarts Always */
export function validateSelectedTemplate(
  spec: JsonObject,
  path: string,
  kindWord: string,
  kindName: string,
): Causes {
  const out: Causes = [];
  const selPath = child(path, "selector");
  const sel = spec.selector;
  if (!isSet(sel)) out.push(fieldErr.required(selPath));
  else {
    out.push(...validateLabelSelector(sel, selPath));
    const s = isObject(sel) ? sel : {};
    const n = Object.keys(isObject(s.matchLabels) ? s.matchLabels : {}).length;
    const m = Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0;
    if (n + m === 0)
      out.push(
        fieldErr.invalidRendered(selPath, goSelector(sel), `empty selector is invalid for ${kindWord}`),
      );
  }
  const template = spec.template;
  if (!isObject(template)) return [...out, fieldErr.required(child(path, "template"))];
  if (isSet(sel)) {
    out.push(...selectorSelectsTemplate(sel, template, path));
  }
  out.push(...validatePodTemplateSpec(template, child(path, "template")));
  const tspec = isObject(template.spec) ? template.spec : {};
  if (isSet(tspec.restartPolicy) && tspec.restartPolicy !== "Always") {
    out.push(
      fieldErr.notSupported(child(path, "template", "spec", "restartPolicy"), tspec.restartPolicy, [
        "Always",
      ]),
    );
  }
  if (isSet(tspec.activeDeadlineSeconds)) {
    out.push(
      fieldErr.invalid(
        child(path, "template", "spec", "activeDeadlineSeconds"),
        tspec.activeDeadlineSeconds,
        `activeDeadlineSeconds in ${kindName} is not Supported`,
      ),
    );
  }
  return out;
}

function validateRollingUpdate(ru: unknown, path: string): Causes {
  if (!isObject(ru)) return [];
  const out: Causes = [
    ...intOrPercent(ru.maxUnavailable, child(path, "maxUnavailable")),
    ...intOrPercent(ru.maxSurge, child(path, "maxSurge")),
  ];
  if (
    isSet(ru.maxUnavailable) &&
    percentOrInt(ru.maxUnavailable, 100) === 0 &&
    percentOrInt(ru.maxSurge, 100) === 0
  ) {
    out.push(
      fieldErr.invalid(child(path, "maxUnavailable"), ru.maxUnavailable, "may not be 0 when `maxSurge` is 0"),
    );
  }
  return out;
}

const specOf = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});

export function validateDeployment(d: JsonObject): Causes {
  const spec = specOf(d);
  const out: Causes = [...nonNegative(spec.replicas, "spec.replicas")];
  out.push(...validateSelectedTemplate(spec, "spec", "deployment", "ReplicaSet"));
  const strategy = isObject(spec.strategy) ? spec.strategy : {};
  out.push(...oneOf(strategy.type, ["Recreate", "RollingUpdate"], "spec.strategy.type", false));
  if (strategy.type === "Recreate" && isSet(strategy.rollingUpdate)) {
    out.push(
      fieldErr.forbidden(
        "spec.strategy.rollingUpdate",
        "may not be specified when strategy `type` is 'Recreate'",
      ),
    );
  }
  out.push(...validateRollingUpdate(strategy.rollingUpdate, "spec.strategy.rollingUpdate"));
  out.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  out.push(...nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"));
  out.push(...nonNegative(spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds"));
  if (
    typeof spec.progressDeadlineSeconds === "number" &&
    spec.progressDeadlineSeconds <= (typeof spec.minReadySeconds === "number" ? spec.minReadySeconds : 0)
  ) {
    out.push(
      fieldErr.invalid(
        "spec.progressDeadlineSeconds",
        spec.progressDeadlineSeconds,
        "must be greater than minReadySeconds",
      ),
    );
  }
  return out;
}

export function validateReplicaSet(rs: JsonObject): Causes {
  const spec = specOf(rs);
  return [
    ...nonNegative(spec.replicas, "spec.replicas"),
    ...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"),
    ...validateSelectedTemplate(spec, "spec", "deployment", "ReplicaSet"),
  ];
}

export function validateDaemonSet(ds: JsonObject): Causes {
  const spec = specOf(ds);
  const out: Causes = [...validateSelectedTemplate(spec, "spec", "daemonset", "DaemonSet")];
  const us = isObject(spec.updateStrategy) ? spec.updateStrategy : {};
  out.push(...oneOf(us.type, ["OnDelete", "RollingUpdate"], "spec.updateStrategy.type", false));
  if (us.type === "RollingUpdate")
    out.push(...validateRollingUpdate(us.rollingUpdate, "spec.updateStrategy.rollingUpdate"));
  out.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  out.push(...nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"));
  return out;
}

export function validateStatefulSet(sts: JsonObject): Causes {
  const spec = specOf(sts);
  const out: Causes = [...nonNegative(spec.replicas, "spec.replicas")];
  out.push(
    ...oneOf(spec.podManagementPolicy, ["OrderedReady", "Parallel"], "spec.podManagementPolicy", false),
  );
  const us = isObject(spec.updateStrategy) ? spec.updateStrategy : {};
  out.push(...oneOf(us.type, ["OnDelete", "RollingUpdate"], "spec.updateStrategy.type", false));
  if (us.type === "OnDelete" && isSet(us.rollingUpdate)) {
    out.push(
      fieldErr.invalid(
        "spec.updateStrategy.rollingUpdate",
        us.rollingUpdate,
        "only allowed for updateStrategy 'RollingUpdate'",
      ),
    );
  }
  if (isObject(us.rollingUpdate)) {
    out.push(...nonNegative(us.rollingUpdate.partition, "spec.updateStrategy.rollingUpdate.partition"));
  }
  const retention = isObject(spec.persistentVolumeClaimRetentionPolicy)
    ? spec.persistentVolumeClaimRetentionPolicy
    : {};
  for (const f of ["whenDeleted", "whenScaled"]) {
    out.push(
      ...oneOf(retention[f], ["Retain", "Delete"], `spec.persistentVolumeClaimRetentionPolicy.${f}`, false),
    );
  }
  out.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  out.push(...nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"));
  out.push(...validateSelectedTemplate(withClaimVolumes(spec), "spec", "statefulset", "StatefulSet"));
  return out;
}

/**
 * The spec with one volume per volumeClaimTemplate the template does not define itself: the
 * controller adds them to each pod, so mounts of them are valid (upstream does not validate a
 * StatefulSet's pod spec at all, because of exactly this).
 */
function withClaimVolumes(spec: JsonObject): JsonObject {
  const template = spec.template;
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
  if (!isObject(template) || claims.length === 0) return spec;
  const podSpec = isObject(template.spec) ? template.spec : {};
  const volumes = Array.isArray(podSpec.volumes) ? podSpec.volumes : [];
  const have = new Set(volumes.map((v) => (isObject(v) ? v.name : undefined)));
  const extra = claims
    .map((c) => (isObject(c) && isObject(c.metadata) ? c.metadata.name : undefined))
    .filter((n): n is string => typeof n === "string" && n !== "" && !have.has(n))
    .map((name) => ({ name, persistentVolumeClaim: { claimName: name } }));
  if (extra.length === 0) return spec;
  return { ...spec, template: { ...template, spec: { ...podSpec, volumes: [...volumes, ...extra] } } };
}

export function validateReplicationController(rc: JsonObject): Causes {
  const spec = specOf(rc);
  const out: Causes = [...nonNegative(spec.replicas, "spec.replicas")];
  const sel = isObject(spec.selector) ? spec.selector : {};
  if (Object.keys(sel).length === 0) out.push(fieldErr.required("spec.selector"));
  const template = spec.template;
  if (!isObject(template)) return [...out, fieldErr.required("spec.template")];
  const labels = templateLabels(template);
  const plain = isObject(labels) ? labels : {};
  if (Object.keys(sel).length > 0 && !Object.entries(sel).every(([k, v]) => plain[k] === v)) {
    out.push(
      fieldErr.invalidRendered(
        "spec.template.metadata.labels",
        goMap(labels),
        "`selector` does not match template `labels`",
      ),
    );
  }
  out.push(...validatePodTemplateSpec(template, "spec.template"));
  return out;
}

/** apps/v1: the selector of every apps kind is immutable */
export function validateSelectorUpdate(obj: JsonObject, old: JsonObject): Causes {
  return immutable(specOf(obj).selector, specOf(old).selector, "spec.selector", goSelector);
}

const STS_MUTABLE = [
  "replicas",
  "ordinals",
  "template",
  "updateStrategy",
  "minReadySeconds",
  "revisionHistoryLimit",
  "persistentVolumeClaimRetentionPolicy",
];

export function validateStatefulSetUpdate(sts: JsonObject, old: JsonObject): Causes {
  const a: JsonObject = { ...specOf(sts) };
  const b: JsonObject = { ...specOf(old) };
  for (const f of STS_MUTABLE) {
    delete a[f];
    delete b[f];
  }
  if (deepEqual(a, b)) return [];
  return [
    fieldErr.forbidden(
      "spec",
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}
