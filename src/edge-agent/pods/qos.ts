/**
 * QoS class, as upstream's GetPodQOS: BestEffort without any cpu/memory request or limit;
 * Guaranteed when every container (init containers included) has cpu and memory limits and
 * its requests equal them (a missing request defaults to the limit); Burstable otherwise.
 */
import type { Container, Pod } from "kubernetes-types/core/v1";
import { compareQuantity, isZeroQuantity } from "../../api/quantity.js";

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

const TRACKED = ["cpu", "memory"] as const;

function nonZero(v: string | number | undefined): v is string | number {
  return v !== undefined && !isZeroQuantity(v);
}

export function qosClass(pod: Pod): QosClass {
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let anyRequest = false;
  let anyLimit = false;
  let guaranteed = true;
  for (const c of containers) {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    for (const r of TRACKED) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (nonZero(request)) anyRequest = true;
      if (nonZero(limit)) anyLimit = true;
      if (!nonZero(limit)) guaranteed = false;
      else if (!nonZero(request) || compareQuantity(request, limit) !== 0) guaranteed = false;
    }
  }
  if (!anyRequest && !anyLimit) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
