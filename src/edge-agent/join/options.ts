/**
 * Validation of what a user types for `edge-agent join`: hub URL, node name and IP, labels and
 * taints. Pure functions (src/cmd reads argv and calls these), each error says what was wrong and
 * what to type instead.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { JoinTaint } from "../../api/join.js";
import { isQualifiedName, isValidLabelValue } from "../../api/names.js";
import { nodeNameProblem } from "../../transport/topics.js";

export class JoinOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JoinOptionError";
  }
}

export type Taint = JoinTaint;

const EFFECTS: readonly Taint["effect"][] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/** The hub's base URL: https only (the CA pin is checked over TLS), no path. */
export function parseHubUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new JoinOptionError(`hub address "${text}" is not a URL: give it as https://HUB:6443`);
  }
  if (url.protocol !== "https:") {
    throw new JoinOptionError(`hub address "${text}" must use https:// (e.g. https://HUB:6443)`);
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "") {
    throw new JoinOptionError(
      `hub address "${text}" must be just https://HOST:PORT, without a path or query`,
    );
  }
  return url;
}

export function checkNodeName(name: string): string {
  const problem = nodeNameProblem(name);
  if (problem) {
    throw new JoinOptionError(`${problem}: pass --node-name with lower-case letters, digits, '-' and '.'`);
  }
  return name;
}

/** Lower-cases a host name into a node name, the way kubelet does for --hostname-override. */
export function nodeNameFromHostname(hostname: string): string {
  return hostname.trim().toLowerCase();
}

export function checkNodeIP(ip: string): string {
  if (!isIPv4(ip) && !isIPv6(ip)) {
    throw new JoinOptionError(
      `--node-ip "${ip}" is not an IP address: give the device's address, e.g. 192.168.1.20`,
    );
  }
  return ip;
}

/** `k=v,k2=v2` → labels; keys and values follow the Kubernetes label syntax. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitList(text)) {
    const eq = item.indexOf("=");
    if (eq < 0) throw new JoinOptionError(`--labels item "${item}" has no "=": write key=value`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length > 0) throw new JoinOptionError(`--labels key "${key}": ${keyErrs.join("; ")}`);
    const valErrs = isValidLabelValue(value);
    if (valErrs.length > 0)
      throw new JoinOptionError(`--labels value "${value}" of "${key}": ${valErrs.join("; ")}`);
    out[key] = value;
  }
  return out;
}

/** `key=value:Effect,key:Effect` → taints (kubelet's --register-with-taints syntax). */
export function parseTaints(text: string | undefined): Taint[] {
  const out: Taint[] = [];
  for (const item of splitList(text)) {
    const colon = item.lastIndexOf(":");
    if (colon < 0) {
      throw new JoinOptionError(
        `--taints item "${item}" has no effect: write key=value:NoSchedule (or PreferNoSchedule, NoExecute)`,
      );
    }
    const effect = item.slice(colon + 1);
    if (!(EFFECTS as readonly string[]).includes(effect)) {
      throw new JoinOptionError(
        `--taints item "${item}": effect "${effect}" must be one of ${EFFECTS.join(", ")}`,
      );
    }
    const kv = item.slice(0, colon);
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length > 0) throw new JoinOptionError(`--taints key "${key}": ${keyErrs.join("; ")}`);
    const taint: Taint = { key, effect: effect as Taint["effect"] };
    if (eq >= 0) {
      const value = kv.slice(eq + 1);
      const valErrs = isValidLabelValue(value);
      if (valErrs.length > 0)
        throw new JoinOptionError(`--taints value "${value}" of "${key}": ${valErrs.join("; ")}`);
      if (value !== "") taint.value = value;
    }
    if (out.some((t) => t.key === key && t.effect === taint.effect)) {
      throw new JoinOptionError(`--taints has "${key}" with effect ${effect} twice: keep one`);
    }
    out.push(taint);
  }
  return out;
}

function splitList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
