/**
 * Container validation (core/validation validateContainers and the helpers it calls): name,
 * image, ports, env, volume mounts, resources, probes, pull policy.
 *
 * Design notes:
 * - `volumes` is the set of volume names declared by the pod, so mounts can be checked for a
 *   matching volume ("Not found") exactly as upstream does.
 * - Resource quantities are parsed here: a real apiserver rejects bad quantities while
 *   decoding; we report them at the field so the user sees which one is wrong.
 * - requests > limits is reported at `resources.requests` (not the key), in upstream's words.
 */
import { fieldErr } from "../errors.js";
import {
  isConfigMapKey,
  isDNS1123Label,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
} from "../names.js";
import { isObject, type JsonObject } from "../object.js";
import { canonicalQuantity, compareQuantity, parseQuantity, quantityError, toMilli } from "../quantity.js";
import { type Causes, child, index, isSet, key, nonNegative, oneOf, portNumOrName } from "./util.js";

export const PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"] as const;
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);

function validatePorts(ports: unknown, path: string): Causes {
  const out: Causes = [];
  const names = new Set<string>();
  (Array.isArray(ports) ? ports : []).forEach((raw, i) => {
    const p = isObject(raw) ? raw : {};
    const ip = index(path, i);
    if (typeof p.name === "string" && p.name !== "") {
      const msgs = isValidPortName(p.name);
      if (msgs.length > 0) for (const m of msgs) out.push(fieldErr.invalid(child(ip, "name"), p.name, m));
      else if (names.has(p.name)) out.push(fieldErr.duplicate(child(ip, "name"), p.name));
      else names.add(p.name);
    }
    if (!isSet(p.containerPort) || p.containerPort === 0)
      out.push(fieldErr.required(child(ip, "containerPort")));
    else {
      for (const m of isValidPortNum(Number(p.containerPort))) {
        out.push(fieldErr.invalid(child(ip, "containerPort"), p.containerPort, m));
      }
    }
    if (isSet(p.hostPort) && p.hostPort !== 0) {
      for (const m of isValidPortNum(Number(p.hostPort)))
        out.push(fieldErr.invalid(child(ip, "hostPort"), p.hostPort, m));
    }
    out.push(...oneOf(p.protocol, PORT_PROTOCOLS, child(ip, "protocol"), false));
  });
  return out;
}

function validateKeyRef(ref: JsonObject, path: string): Causes {
  const out: Causes = [];
  if (typeof ref.key !== "string" || ref.key === "") out.push(fieldErr.required(child(path, "key")));
  else for (const m of isConfigMapKey(ref.key)) out.push(fieldErr.invalid(child(path, "key"), ref.key, m));
  if (typeof ref.name !== "string" || ref.name === "") out.push(fieldErr.required(child(path, "name")));
  return out;
}

function validateEnv(env: unknown, path: string): Causes {
  const out: Causes = [];
  (Array.isArray(env) ? env : []).forEach((raw, i) => {
    const ev = isObject(raw) ? raw : {};
    const ip = index(path, i);
    if (typeof ev.name !== "string" || ev.name === "") out.push(fieldErr.required(child(ip, "name")));
    else
      for (const m of isRelaxedEnvVarName(ev.name)) out.push(fieldErr.invalid(child(ip, "name"), ev.name, m));
    if (!isObject(ev.valueFrom)) return;
    const vf = ev.valueFrom;
    const vp = child(ip, "valueFrom");
    const sources = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter((s) =>
      isObject(vf[s]),
    );
    if (sources.length === 0) {
      out.push(
        fieldErr.invalid(
          vp,
          "",
          "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ),
      );
    } else if (sources.length > 1) {
      out.push(fieldErr.invalid(vp, "", "may not have more than one field specified at a time"));
    }
    if (typeof ev.value === "string" && ev.value !== "") {
      out.push(fieldErr.invalid(vp, "", "may not be specified when `value` is not empty"));
    }
    if (isObject(vf.fieldRef) && !vf.fieldRef.fieldPath)
      out.push(fieldErr.required(child(vp, "fieldRef", "fieldPath")));
    if (isObject(vf.resourceFieldRef) && !vf.resourceFieldRef.resource) {
      out.push(fieldErr.required(child(vp, "resourceFieldRef", "resource")));
    }
    if (isObject(vf.configMapKeyRef))
      out.push(...validateKeyRef(vf.configMapKeyRef, child(vp, "configMapKeyRef")));
    if (isObject(vf.secretKeyRef)) out.push(...validateKeyRef(vf.secretKeyRef, child(vp, "secretKeyRef")));
  });
  return out;
}

function validateVolumeMounts(mounts: unknown, volumes: ReadonlySet<string>, path: string): Causes {
  const out: Causes = [];
  const seen = new Set<string>();
  (Array.isArray(mounts) ? mounts : []).forEach((raw, i) => {
    const m = isObject(raw) ? raw : {};
    const ip = index(path, i);
    const name = typeof m.name === "string" ? m.name : "";
    if (name === "") out.push(fieldErr.required(child(ip, "name")));
    if (!volumes.has(name)) out.push(fieldErr.notFound(child(ip, "name"), name));
    const mp = typeof m.mountPath === "string" ? m.mountPath : "";
    if (mp === "") out.push(fieldErr.required(child(ip, "mountPath")));
    if (seen.has(mp)) out.push(fieldErr.invalid(child(ip, "mountPath"), mp, "must be unique"));
    seen.add(mp);
    if (typeof m.subPath === "string" && m.subPath !== "") {
      if (m.subPath.startsWith("/"))
        out.push(fieldErr.invalid(child(ip, "subPath"), m.subPath, "must be a relative path"));
      if (m.subPath.split("/").includes("..")) {
        out.push(fieldErr.invalid(child(ip, "subPath"), m.subPath, "must not contain '..'"));
      }
    }
  });
  return out;
}

const isNativeResource = (name: string): boolean => !name.includes("/") || name.includes("kubernetes.io/");
const overcommitAllowed = (name: string): boolean => isNativeResource(name) && !name.startsWith("hugepages-");
const isIntegerResource = (name: string): boolean => !isNativeResource(name) || name.startsWith("hugepages-");

function validateResourceList(list: unknown, path: string): Causes {
  if (!isObject(list)) return [];
  const out: Causes = [];
  for (const [name, q] of Object.entries(list)) {
    const p = key(path, name);
    for (const m of isQualifiedName(name)) out.push(fieldErr.invalid(p, name, m));
    if (!name.includes("/") && !STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith("hugepages-")) {
      out.push(fieldErr.invalid(p, name, "must be a standard resource for containers"));
    }
    const err = quantityError(q);
    if (err) {
      out.push(fieldErr.invalid(p, q, err));
      continue;
    }
    const qty = parseQuantity(q as string | number);
    if (qty.nanos < 0n)
      out.push(
        fieldErr.invalid(p, canonicalQuantity(q as string | number), "must be greater than or equal to 0"),
      );
    if (isIntegerResource(name) && toMilli(qty) % 1000 !== 0)
      out.push(fieldErr.invalid(p, q, "must be an integer"));
  }
  return out;
}

export function validateResources(res: unknown, path: string): Causes {
  if (!isObject(res)) return [];
  const lp = child(path, "limits");
  const rp = child(path, "requests");
  const out: Causes = [...validateResourceList(res.limits, lp), ...validateResourceList(res.requests, rp)];
  const limits = isObject(res.limits) ? res.limits : {};
  if (!isObject(res.requests)) return out;
  for (const [name, q] of Object.entries(res.requests)) {
    const lim = limits[name];
    if (lim === undefined || quantityError(q) || quantityError(lim)) continue;
    const req = q as string | number;
    const l = lim as string | number;
    const cmp = compareQuantity(req, l);
    if (cmp !== 0 && !overcommitAllowed(name)) {
      out.push(
        fieldErr.invalid(
          rp,
          canonicalQuantity(req),
          `must be equal to ${name} limit of ${canonicalQuantity(l)}`,
        ),
      );
    } else if (cmp > 0) {
      out.push(
        fieldErr.invalid(
          rp,
          canonicalQuantity(req),
          `must be less than or equal to ${name} limit of ${canonicalQuantity(l)}`,
        ),
      );
    }
  }
  return out;
}

/** validateHandler: exactly one of exec/httpGet/tcpSocket/grpc (sleep for lifecycle) */
function validateHandler(h: JsonObject, path: string, kinds: readonly string[]): Causes {
  const present = kinds.filter((k) => isObject(h[k]));
  if (present.length === 0) return [fieldErr.required(path, "must specify a handler type")];
  const out: Causes = present
    .slice(1)
    .map((k) => fieldErr.forbidden(child(path, k), "may not specify more than 1 handler type"));
  if (isObject(h.exec) && !(Array.isArray(h.exec.command) && h.exec.command.length > 0)) {
    out.push(fieldErr.required(child(path, "exec", "command")));
  }
  if (isObject(h.httpGet)) {
    const g = h.httpGet;
    if (!g.path) out.push(fieldErr.required(child(path, "httpGet", "path")));
    out.push(...portNumOrName(g.port, child(path, "httpGet", "port")));
    out.push(...oneOf(g.scheme, ["HTTP", "HTTPS"], child(path, "httpGet", "scheme"), false));
  }
  if (isObject(h.tcpSocket)) out.push(...portNumOrName(h.tcpSocket.port, child(path, "tcpSocket", "port")));
  if (isObject(h.grpc)) {
    for (const m of isValidPortNum(Number(h.grpc.port)))
      out.push(fieldErr.invalid(child(path, "grpc", "port"), h.grpc.port, m));
  }
  return out;
}

function validateProbe(probe: unknown, path: string, mustSucceedOnce: boolean): Causes {
  if (!isObject(probe)) return [];
  const out = validateHandler(probe, path, ["exec", "httpGet", "tcpSocket", "grpc"]);
  for (const f of [
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
  ]) {
    out.push(...nonNegative(probe[f], child(path, f)));
  }
  if (mustSucceedOnce && isSet(probe.successThreshold) && probe.successThreshold !== 1) {
    out.push(fieldErr.invalid(child(path, "successThreshold"), probe.successThreshold, "must be 1"));
  }
  return out;
}

export interface ContainerContext {
  readonly volumes: ReadonlySet<string>;
  /** names already used by earlier containers of the pod (init + regular share one namespace) */
  readonly names: Set<string>;
  readonly init: boolean;
}

export function validateContainer(raw: unknown, path: string, ctx: ContainerContext): Causes {
  const c = isObject(raw) ? raw : {};
  const out: Causes = [];
  const name = typeof c.name === "string" ? c.name : "";
  if (name === "") out.push(fieldErr.required(child(path, "name")));
  else {
    for (const m of isDNS1123Label(name)) out.push(fieldErr.invalid(child(path, "name"), name, m));
    if (ctx.names.has(name)) out.push(fieldErr.duplicate(child(path, "name"), name));
    ctx.names.add(name);
  }
  const image = typeof c.image === "string" ? c.image : "";
  if (image === "") out.push(fieldErr.required(child(path, "image")));
  else if (image.trim() !== image) {
    out.push(fieldErr.invalid(child(path, "image"), image, "must not have leading or trailing whitespace"));
  }
  if (isObject(c.lifecycle)) {
    for (const h of ["postStart", "preStop"]) {
      if (isObject(c.lifecycle[h])) {
        out.push(
          ...validateHandler(c.lifecycle[h], child(path, "lifecycle", h), [
            "exec",
            "httpGet",
            "tcpSocket",
            "sleep",
          ]),
        );
      }
    }
  }
  if (ctx.init && c.restartPolicy !== "Always") {
    for (const p of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      if (isSet(c[p]))
        out.push(
          fieldErr.forbidden(
            child(path, p),
            "may not be set for init containers without restartPolicy=Always",
          ),
        );
    }
  } else {
    out.push(...validateProbe(c.livenessProbe, child(path, "livenessProbe"), true));
    out.push(...validateProbe(c.readinessProbe, child(path, "readinessProbe"), false));
    out.push(...validateProbe(c.startupProbe, child(path, "startupProbe"), true));
  }
  out.push(...validatePorts(c.ports, child(path, "ports")));
  out.push(...validateEnv(c.env, child(path, "env")));
  out.push(...validateVolumeMounts(c.volumeMounts, ctx.volumes, child(path, "volumeMounts")));
  out.push(...oneOf(c.imagePullPolicy, PULL_POLICIES, child(path, "imagePullPolicy"), false));
  out.push(
    ...oneOf(
      c.terminationMessagePolicy,
      ["File", "FallbackToLogsOnError"],
      child(path, "terminationMessagePolicy"),
      false,
    ),
  );
  out.push(...validateResources(c.resources, child(path, "resources")));
  return out;
}
