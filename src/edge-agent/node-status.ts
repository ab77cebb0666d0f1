/**
 * The Node status and Lease the agent reports over the edge link (`node/<name>`, `lease/<name>`),
 * built from the node facts: pure functions, so the heartbeat can compare what it would send with
 * what it sent last and stay quiet while nothing changed (SD cards and cellular data plans).
 */
import type { NodeAddress, NodeCondition, NodeSystemInfo } from "kubernetes-types/core/v1";
import { metaTime, microTime } from "../api/time.js";
import { KUBE_VERSION } from "../lib/version.js";
import type { NodeFacts } from "./node-facts.js";

export interface NodeStatusReport {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  addresses: NodeAddress[];
  nodeInfo: NodeSystemInfo;
  conditions: NodeCondition[];
}

export interface LeaseReport {
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** RFC 3339 with microseconds (MicroTime) */
  renewTime: string;
}

/** Kubernetes quantities for the node's resources (memory in Ki, the way kubelet reports it). */
export function nodeResources(f: NodeFacts): Record<string, string> {
  return {
    cpu: String(f.cpu),
    memory: `${Math.floor(f.memoryBytes / 1024)}Ki`,
    pods: String(f.pods),
    "ephemeral-storage": `${Math.floor(f.ephemeralStorageBytes / 1024)}Ki`,
  };
}

/** nodeInfo; kubeletVersion is the Kubernetes version the hub emulates (what `kubectl get nodes` shows). */
export function nodeInfo(f: NodeFacts): NodeSystemInfo {
  return {
    architecture: f.architecture,
    operatingSystem: f.operatingSystem,
    kernelVersion: f.kernelVersion,
    osImage: f.osImage,
    containerRuntimeVersion: f.containerRuntimeVersion,
    kubeletVersion: KUBE_VERSION.gitVersion,
    kubeProxyVersion: KUBE_VERSION.gitVersion,
    machineID: f.machineID,
    systemUUID: f.machineID,
    bootID: f.bootID,
  };
}

/** Labels every node carries (upstream's well-known labels), merged under the user's labels. */
export function wellKnownLabels(f: NodeFacts, nodeName: string): Record<string, string> {
  return {
    "kubernetes.io/arch": f.architecture,
    "kubernetes.io/os": f.operatingSystem,
    "kubernetes.io/hostname": nodeName,
  };
}

/**
 * The node status. `readySince` is the Ready condition's lastTransitionTime (the agent's start);
 * lastHeartbeatTime is `now`, and is left out of `statusFingerprint`.
 */
export function nodeStatus(
  f: NodeFacts,
  o: { nodeIP: string; hostname: string; readySince: Date; now: Date },
): NodeStatusReport {
  const resources = nodeResources(f);
  return {
    capacity: resources,
    allocatable: { ...resources },
    addresses: [
      { type: "InternalIP", address: o.nodeIP },
      { type: "Hostname", address: o.hostname },
    ],
    nodeInfo: nodeInfo(f),
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "edge agent is posting ready status",
        lastHeartbeatTime: metaTime(o.now),
        lastTransitionTime: metaTime(o.readySince),
      },
    ],
  };
}

/** The status without its heartbeat time: equal fingerprints mean nothing worth sending changed. */
export function statusFingerprint(s: NodeStatusReport): string {
  return JSON.stringify({
    ...s,
    conditions: s.conditions.map((c) => ({ ...c, lastHeartbeatTime: undefined })),
  });
}

export function leaseReport(nodeName: string, now: Date, durationSeconds = 40): LeaseReport {
  return { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) };
}
