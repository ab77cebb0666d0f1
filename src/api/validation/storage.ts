/**
 * Storage validation: PersistentVolume, PersistentVolumeClaim (create and update) and
 * StorageClass (create and update).
 *
 * Design notes:
 * - A bound claim may only grow its storage request; everything else in a claim's spec is
 *   frozen after creation, except the one-time binding of volumeName by the PV controller.
 * - StorageClass parameters, provisioner and reclaim policy never change (upstream forbids
 *   it so existing volumes keep the semantics they were provisioned with).
 */

import { VOLUME_SOURCE_KEYS } from "../defaults/pod.js";
import { fieldErr } from "../errors.js";
import { isQualifiedName } from "../names.js";
import { isObject, type JsonObject } from "../object.js";
import { compareQuantity, parseQuantity, quantityError } from "../quantity.js";
import { type Causes, child, deepEqual, immutable, index, isSet, key, oneOf } from "./util.js";

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"] as const;
const specOf = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});

function positiveQuantity(q: unknown, path: string): Causes {
  const err = quantityError(q);
  if (err) return [fieldErr.invalid(path, q, err)];
  return parseQuantity(q as string | number).nanos <= 0n
    ? [fieldErr.invalid(path, String(q), "must be greater than zero")]
    : [];
}

function accessModes(modes: unknown, path: string, requiredDetail: string): Causes {
  const list = Array.isArray(modes) ? modes : [];
  if (list.length === 0) return [fieldErr.required(path, requiredDetail)];
  return list.flatMap((m) =>
    (ACCESS_MODES as readonly unknown[]).includes(m) ? [] : [fieldErr.notSupported(path, m, ACCESS_MODES)],
  );
}

export function validatePersistentVolume(pv: JsonObject): Causes {
  const spec = specOf(pv);
  const out: Causes = [...accessModes(spec.accessModes, "spec.accessModes", "")];
  const cap = isObject(spec.capacity) ? spec.capacity : {};
  if (Object.keys(cap).length === 0) out.push(fieldErr.required("spec.capacity"));
  else if (!("storage" in cap) || Object.keys(cap).length > 1) {
    out.push(fieldErr.notSupported("spec.capacity", cap, ["storage"]));
  }
  for (const [r, q] of Object.entries(cap)) out.push(...positiveQuantity(q, key("spec.capacity", r)));
  out.push(
    ...oneOf(
      spec.persistentVolumeReclaimPolicy,
      ["Delete", "Recycle", "Retain"],
      "spec.persistentVolumeReclaimPolicy",
      false,
    ),
  );
  out.push(...oneOf(spec.volumeMode, ["Block", "Filesystem"], "spec.volumeMode", false));
  const sources = [...VOLUME_SOURCE_KEYS, "local"].filter((k) => isSet(spec[k]));
  if (sources.length === 0) out.push(fieldErr.required("spec", "must specify a volume type"));
  for (const extra of sources.slice(1))
    out.push(fieldErr.forbidden(child("spec", extra), "may not specify more than 1 volume type"));
  for (const src of ["hostPath", "local"]) {
    const s = spec[src];
    if (isObject(s) && (typeof s.path !== "string" || s.path === ""))
      out.push(fieldErr.required(child("spec", src, "path")));
  }
  if (isSet(spec.local) && !isObject(spec.nodeAffinity)) {
    out.push(fieldErr.required("spec.nodeAffinity", "Local volume requires node affinity"));
  }
  return out;
}

export function validatePersistentVolumeClaim(pvc: JsonObject): Causes {
  const spec = specOf(pvc);
  const out: Causes = [
    ...accessModes(spec.accessModes, "spec.accessModes", "at least 1 access mode is required"),
  ];
  const res = isObject(spec.resources) ? spec.resources : {};
  const requests = isObject(res.requests) ? res.requests : {};
  if (!("storage" in requests)) out.push(fieldErr.required(key("spec.resources", "storage")));
  else out.push(...positiveQuantity(requests.storage, key("spec.resources", "storage")));
  out.push(...oneOf(spec.volumeMode, ["Block", "Filesystem"], "spec.volumeMode", false));
  return out;
}

export function validatePersistentVolumeClaimUpdate(pvc: JsonObject, old: JsonObject): Causes {
  const next: JsonObject = structuredClone(specOf(pvc));
  const prev: JsonObject = structuredClone(specOf(old));
  if (!prev.volumeName) prev.volumeName = next.volumeName;
  const bound = isObject(pvc.status) && pvc.status.phase === "Bound";
  const nextReq =
    isObject(next.resources) && isObject(next.resources.requests) ? next.resources.requests : undefined;
  const prevReq =
    isObject(prev.resources) && isObject(prev.resources.requests) ? prev.resources.requests : {};
  const out: Causes = [];
  if (bound && nextReq) nextReq.storage = prevReq.storage;
  if (!deepEqual(next, prev)) {
    out.push(
      fieldErr.forbidden(
        "spec",
        "spec is immutable after creation except resources.requests for bound claims",
      ),
    );
  }
  const n =
    isObject(pvc.spec) && isObject(pvc.spec.resources) && isObject(pvc.spec.resources.requests)
      ? pvc.spec.resources.requests.storage
      : undefined;
  const o = prevReq.storage;
  if (
    n !== undefined &&
    o !== undefined &&
    !quantityError(n) &&
    !quantityError(o) &&
    compareQuantity(n as string, o as string) < 0
  ) {
    out.push(
      fieldErr.forbidden("spec.resources.requests.storage", "field can not be less than previous value"),
    );
  }
  return out;
}

export function validateStorageClass(sc: JsonObject): Causes {
  const out: Causes = [];
  const prov = typeof sc.provisioner === "string" ? sc.provisioner : "";
  if (prov === "") out.push(fieldErr.required("provisioner"));
  else
    for (const m of isQualifiedName(prov.toLowerCase())) out.push(fieldErr.invalid("provisioner", prov, m));
  out.push(...oneOf(sc.reclaimPolicy, ["Delete", "Retain"], "reclaimPolicy", false));
  out.push(...oneOf(sc.volumeBindingMode, ["Immediate", "WaitForFirstConsumer"], "volumeBindingMode", false));
  const params = isObject(sc.parameters) ? sc.parameters : {};
  if (Object.keys(params).length > 512) out.push(fieldErr.tooLong("parameters", 512));
  (Array.isArray(sc.mountOptions) ? sc.mountOptions : []).forEach((m, i) => {
    if (typeof m !== "string" || m === "") out.push(fieldErr.required(index("mountOptions", i)));
  });
  return out;
}

export function validateStorageClassUpdate(sc: JsonObject, old: JsonObject): Causes {
  const out: Causes = [];
  if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {}))
    out.push(fieldErr.forbidden("parameters", "updates to parameters are forbidden."));
  if (sc.provisioner !== old.provisioner)
    out.push(fieldErr.forbidden("provisioner", "updates to provisioner are forbidden."));
  if ((sc.reclaimPolicy ?? "Delete") !== (old.reclaimPolicy ?? "Delete")) {
    out.push(fieldErr.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
  }
  out.push(
    ...immutable(
      sc.volumeBindingMode ?? "Immediate",
      old.volumeBindingMode ?? "Immediate",
      "volumeBindingMode",
    ),
  );
  return out;
}
