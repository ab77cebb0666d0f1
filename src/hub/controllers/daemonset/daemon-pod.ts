/**
 * The pod a DaemonSet runs on one node (upstream's daemon pod template + per-node affinity).
 *
 * Design notes
 * - Pods are not bound here: the required node affinity is replaced by one term
 *   `matchFields metadata.name In [node]` (upstream ReplaceDaemonSetPodNodeNameNodeAffinity),
 *   so the scheduler binds them and accounts their resources like any other pod.
 * - Labels carry `controller-revision-hash` (the revision's hash) and the deprecated
 *   `pod-template-generation`, as upstream still sets both.
 */
import { cloneJson, type KubeObject } from "../../../api/object.js";
import { REVISION_HASH_LABEL } from "../workload-common/controller-history.js";
import { podFromTemplate } from "../workload-common/pods.js";
import { type NodeSelectorTerm, type Toleration, withDaemonTolerations } from "./node-eligibility.js";

export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";

interface SpecWithAffinity {
  hostNetwork?: boolean;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** the template spec with daemon tolerations, used both for eligibility and for new pods */
export function daemonPodSpec(ds: KubeObject): SpecWithAffinity {
  const tmpl = ((ds.spec ?? {}) as { template?: { spec?: SpecWithAffinity } }).template;
  const spec = { ...(tmpl?.spec ?? {}) };
  spec.tolerations = withDaemonTolerations(spec.tolerations, spec.hostNetwork === true);
  return spec;
}

export function pinToNode(spec: SpecWithAffinity, nodeName: string): SpecWithAffinity {
  const term: NodeSelectorTerm = {
    matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }],
  };
  const affinity = { ...(spec.affinity ?? {}) };
  affinity.nodeAffinity = {
    ...(affinity.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] },
  };
  return { ...spec, affinity };
}

export function newDaemonPod(ds: KubeObject, nodeName: string, hash: string): KubeObject {
  const tmpl = ((ds.spec ?? {}) as { template?: unknown }).template;
  const pod = podFromTemplate(tmpl, ds, { generateName: `${ds.metadata.name}-` });
  pod.metadata.labels = {
    ...(pod.metadata.labels ?? {}),
    [REVISION_HASH_LABEL]: hash,
    [TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1),
  };
  // clone: the template belongs to the informer cache and create() defaults in place
  pod.spec = cloneJson(pinToNode(daemonPodSpec(ds), nodeName));
  return pod;
}
