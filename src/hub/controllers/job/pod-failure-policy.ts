/**
 * Job `spec.podFailurePolicy` (upstream pkg/controller/job/pod_failure_policy.go): the rules
 * are tried in order against each failed pod; the first that matches decides whether the
 * failure fails the whole Job at once (FailJob), is not counted against backoffLimit
 * (Ignore), or is counted as usual (Count). No rule matching means Count.
 *
 * Design notes
 * - onExitCodes looks at the terminated init containers, then the app containers (optionally
 *   only the one named by containerName); exit code 0 never matches, with In or NotIn.
 * - onPodConditions matches a pod condition of the given type and status (default True).
 * - FailIndex belongs to backoffLimitPerIndex, which this controller does not implement: it
 *   is treated as Count, the closest behaviour for a non-indexed Job.
 * - The FailJob message is upstream's, word for word, because users grep for it:
 *   "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0".
 */
import type { KubeObject } from "../../../api/object.js";
import { podPhase } from "../workload-common/pods.js";

export type PodFailureAction = "FailJob" | "Ignore" | "Count" | "FailIndex";

export interface PodFailurePolicyRule {
  action: PodFailureAction;
  onExitCodes?: { containerName?: string; operator: "In" | "NotIn"; values: number[] };
  onPodConditions?: { type: string; status?: string }[];
}

export interface PodFailurePolicy {
  rules: PodFailurePolicyRule[];
}

interface ContainerStatusLike {
  name: string;
  state?: { terminated?: { exitCode?: number } };
}

export interface PolicyMatch {
  action: PodFailureAction;
  /** the FailJob message (only for FailJob) */
  message?: string;
}

function matchExitCodes(
  pod: KubeObject,
  req: NonNullable<PodFailurePolicyRule["onExitCodes"]>,
): ContainerStatusLike | undefined {
  const st = (pod.status ?? {}) as {
    initContainerStatuses?: ContainerStatusLike[];
    containerStatuses?: ContainerStatusLike[];
  };
  for (const list of [st.initContainerStatuses ?? [], st.containerStatuses ?? []]) {
    for (const cs of list) {
      const code = cs.state?.terminated?.exitCode;
      if (code === undefined || code === 0) continue;
      if (req.containerName && req.containerName !== cs.name) continue;
      const listed = req.values.includes(code);
      if (req.operator === "In" ? listed : !listed) return cs;
    }
  }
  return undefined;
}

function matchConditions(
  pod: KubeObject,
  reqs: NonNullable<PodFailurePolicyRule["onPodConditions"]>,
): string | undefined {
  const conds = ((pod.status ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? [];
  for (const r of reqs) {
    const want = r.status ?? "True";
    if (conds.some((c) => c.type === r.type && c.status === want)) return r.type;
  }
  return undefined;
}

/** the rule that decides this failed pod, or undefined (default handling: Count) */
export function matchPodFailurePolicy(
  policy: PodFailurePolicy | undefined,
  pod: KubeObject,
): PolicyMatch | undefined {
  if (!policy || podPhase(pod) !== "Failed") return undefined;
  const ns = pod.metadata.namespace ?? "";
  const name = pod.metadata.name ?? "";
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.onExitCodes) {
      const cs = matchExitCodes(pod, rule.onExitCodes);
      if (!cs) continue;
      if (rule.action !== "FailJob") return { action: rule.action };
      const code = cs.state?.terminated?.exitCode;
      return {
        action: "FailJob",
        message: `Container ${cs.name} for pod ${ns}/${name} failed with exit code ${code} matching FailJob rule at index ${index}`,
      };
    }
    if (rule.onPodConditions) {
      const type = matchConditions(pod, rule.onPodConditions);
      if (!type) continue;
      if (rule.action !== "FailJob") return { action: rule.action };
      return {
        action: "FailJob",
        message: `Pod ${ns}/${name} has condition ${type} matching FailJob rule at index ${index}`,
      };
    }
  }
  return undefined;
}

/** the message of the first failed pod that fails the Job through a FailJob rule */
export function failJobMessage(
  policy: PodFailurePolicy | undefined,
  pods: readonly KubeObject[],
): string | undefined {
  if (!policy) return undefined;
  for (const p of pods) {
    const m = matchPodFailurePolicy(policy, p);
    if (m?.action === "FailJob") return m.message;
  }
  return undefined;
}

/** does this failed pod count against backoffLimit (and the backoff delay)? */
export function failureCounts(policy: PodFailurePolicy | undefined, pod: KubeObject): boolean {
  return matchPodFailurePolicy(policy, pod)?.action !== "Ignore";
}
