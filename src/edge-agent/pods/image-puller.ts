/**
 * Image pulls for the pod manager: pull policy, Pulling/Pulled events, ErrImagePull then
 * ImagePullBackOff with back-off, as the kubelet's image manager.
 *
 * Design notes
 * - Presence is asked first with policy Never (no network): that tells "already present on
 *   machine" from a real pull, which is what the upstream events distinguish.
 * - A failed pull arms the back-off (10 s doubling to 5 min, per pod and image); during it the
 *   container waits in ImagePullBackOff and no pull is tried, so a missing image costs one
 *   Docker call per back-off period, never a busy loop, and never throws out of the manager.
 * - An image that arrives by other means (airgap tarball) is found by the presence check on
 *   the next sync, back-off or not.
 */
import type { Container } from "kubernetes-types/core/v1";
import { defaultPullPolicy } from "../../api/defaults/pod.js";
import { ImagePullError } from "../runtime/errors.js";
import type { ContainerRuntime, PullPolicy, RegistryAuth } from "../runtime/runtime.js";
import type { Backoff } from "./backoff.js";
import type { EventType } from "./ports.js";
import type { Waiting } from "./status.js";

export interface PullContext {
  runtime: ContainerRuntime;
  backoff: Backoff;
  now(): number;
  podUid: string;
  auth?: RegistryAuth;
  event(type: EventType, reason: string, message: string): void;
  /** time of the last failed pull per image, kept by the caller's pod state */
  failedAt: Map<string, number>;
}

export type PullOutcome = { ok: true } | { ok: false; waiting: Waiting; retryMs: number };

function policyOf(c: Container): PullPolicy {
  const p = c.imagePullPolicy;
  return p === "Always" || p === "Never" || p === "IfNotPresent" ? p : defaultPullPolicy(c.image ?? "");
}

async function present(ctx: PullContext, image: string): Promise<boolean | ImagePullError> {
  try {
    await ctx.runtime.ensureImage(image, "Never");
    return true;
  } catch (err) {
    if (err instanceof ImagePullError && err.reason === "ErrImageNeverPull") return false;
    if (err instanceof ImagePullError) return err;
    throw err;
  }
}

export async function ensurePulled(ctx: PullContext, c: Container): Promise<PullOutcome> {
  const image = c.image ?? "";
  const policy = policyOf(c);
  const here = await present(ctx, image);
  if (here instanceof ImagePullError) {
    ctx.event("Warning", "Failed", `Error: ${here.reason}: ${here.message}`);
    return { ok: false, waiting: { reason: here.reason, message: here.message }, retryMs: ctx.backoff.maxMs };
  }
  if (here && policy !== "Always") {
    ctx.event("Normal", "Pulled", `Container image "${image}" already present on machine`);
    return { ok: true };
  }
  if (!here && policy === "Never") {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    ctx.event("Warning", "ErrImageNeverPull", message);
    return { ok: false, waiting: { reason: "ErrImageNeverPull", message }, retryMs: ctx.backoff.baseMs };
  }
  const key = `${ctx.podUid}/image/${image}`;
  const last = ctx.failedAt.get(image);
  const remaining = last === undefined ? 0 : ctx.backoff.remaining(key, last);
  if (remaining > 0) {
    const message = `Back-off pulling image "${image}"`;
    ctx.event("Normal", "BackOff", message);
    return { ok: false, waiting: { reason: "ImagePullBackOff", message }, retryMs: remaining };
  }
  ctx.event("Normal", "Pulling", `Pulling image "${image}"`);
  const started = ctx.now();
  try {
    await ctx.runtime.ensureImage(image, policy, ctx.auth);
  } catch (err) {
    if (!(err instanceof ImagePullError)) throw err;
    const at = ctx.now();
    ctx.failedAt.set(image, at);
    const delay = ctx.backoff.next(key, at);
    ctx.event("Warning", "Failed", err.message);
    ctx.event("Warning", "Failed", `Error: ${err.reason}`);
    return { ok: false, waiting: { reason: err.reason, message: err.message }, retryMs: delay };
  }
  ctx.failedAt.delete(image);
  ctx.backoff.reset(key);
  const secs = ((ctx.now() - started) / 1000).toFixed(3);
  ctx.event(
    "Normal",
    "Pulled",
    `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting)`,
  );
  return { ok: true };
}
