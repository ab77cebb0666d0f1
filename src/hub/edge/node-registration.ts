/**
 * Node registration at join: the Node object a joining device gets, built from the facts it
 * reports (what the kubelet's registration does upstream).
 *
 * Design notes
 * - Labels: the well-known `kubernetes.io/arch|os|hostname` (arch in Go's names: x64 → amd64)
 *   plus the join's own labels; on re-join, existing labels are kept and the join's win.
 *   Taints are applied like `--register-with-taints`: added when missing, never removed here
 *   (an admin's or a controller's taints survive a re-join).
 * - Status: capacity from the facts; allocatable subtracts upstream's default hard-eviction
 *   thresholds (memory.available 100Mi, nodefs.available 10%) so the scheduler leaves the same
 *   headroom a kubelet would. Ready=True/KubeletReady from the start: the device is up and talking.
 * - Memory in Ki, as the kubelet reports it (kubectl shows e.g. 3884264Ki).
 */
import type { JoinRequest, NodeFacts } from "../../api/join.js";
import type { KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";
import { type Client, refs } from "../../client/client.js";
import { KUBE_VERSION } from "../../lib/version.js";

const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;

/** Go's GOARCH name for a Node.js / systeminformation architecture name. */
export function goArch(arch: string): string {
  const a = arch.toLowerCase();
  if (a === "x64" || a === "x86_64") return "amd64";
  if (a === "aarch64" || a === "arm64") return "arm64";
  if (a === "ia32" || a === "x86" || a === "i386" || a === "i686") return "386";
  if (a.startsWith("arm")) return "arm";
  return a || "unknown";
}

function goOs(os: string): string {
  const o = os.toLowerCase();
  return o === "" ? "linux" : o;
}

export function nodeLabels(req: JoinRequest): Record<string, string> {
  return {
    "kubernetes.io/arch": goArch(req.facts.architecture),
    "kubernetes.io/os": goOs(req.facts.operatingSystem),
    "kubernetes.io/hostname": req.facts.hostname || req.nodeName,
    "beta.kubernetes.io/arch": goArch(req.facts.architecture),
    "beta.kubernetes.io/os": goOs(req.facts.operatingSystem),
    ...req.labels,
  };
}

function resources(f: NodeFacts): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memKi = (b: number) => `${Math.floor(b / 1024)}Ki`;
  return {
    capacity: {
      cpu: String(f.cpu),
      memory: memKi(f.memoryBytes),
      pods: String(f.pods),
      "ephemeral-storage": memKi(f.ephemeralStorageBytes),
    },
    allocatable: {
      cpu: String(f.cpu),
      memory: memKi(Math.max(0, f.memoryBytes - EVICTION_MEMORY_BYTES)),
      pods: String(f.pods),
      "ephemeral-storage": String(Math.floor(f.ephemeralStorageBytes * 0.9)),
    },
  };
}

function condition(type: string, status: string, reason: string, message: string, at: string) {
  return { type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at };
}

/** The Node status a join reports: capacity, nodeInfo, addresses, Ready=True. */
export function joinNodeStatus(req: JoinRequest, now: Date): Record<string, unknown> {
  const at = metaTime(now);
  const f = req.facts;
  return {
    ...resources(f),
    conditions: [
      condition(
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "edgekube-agent has sufficient memory available",
        at,
      ),
      condition(
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "edgekube-agent has no disk pressure",
        at,
      ),
      condition(
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "edgekube-agent has sufficient PID available",
        at,
      ),
      condition("Ready", "True", "KubeletReady", "edgekube-agent is posting ready status", at),
    ],
    addresses: [
      { type: "InternalIP", address: req.nodeIP },
      { type: "Hostname", address: f.hostname || req.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    nodeInfo: {
      machineID: f.machineID,
      systemUUID: f.machineID,
      bootID: f.bootID,
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: f.containerRuntimeVersion,
      kubeletVersion: `${KUBE_VERSION.gitVersion}-edgekube`,
      kubeProxyVersion: "",
      operatingSystem: goOs(f.operatingSystem),
      architecture: goArch(f.architecture),
    },
  };
}

type Taint = { key: string; value?: string; effect: string };

function mergeTaints(existing: Taint[], add: Taint[]): Taint[] {
  const out = [...existing];
  for (const t of add) if (!out.some((e) => e.key === t.key && e.effect === t.effect)) out.push(t);
  return out;
}

/**
 * Creates or updates the Node for a join and writes its status; returns the stored Node.
 * Re-joining an existing name is allowed (a re-imaged device keeps its name).
 */
export async function registerNode(client: Client, req: JoinRequest, now: Date): Promise<KubeObject> {
  const labels = nodeLabels(req);
  const existing = await client.get(refs.nodes, undefined, req.nodeName);
  if (!existing) {
    await client.create(refs.nodes, undefined, {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: req.nodeName, labels },
      spec: req.taints.length > 0 ? { taints: req.taints } : {},
    });
  } else {
    await client.mutate(refs.nodes, undefined, req.nodeName, (cur) => {
      const spec = { ...((cur.spec as { taints?: Taint[] } | undefined) ?? {}) };
      if (req.taints.length > 0) spec.taints = mergeTaints(spec.taints ?? [], req.taints);
      return { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...labels } }, spec };
    });
  }
  const status = joinNodeStatus(req, now);
  return client.mutate(
    refs.nodes,
    undefined,
    req.nodeName,
    (cur) => ({ ...cur, status: { ...((cur.status as object | undefined) ?? {}), ...status } }),
    { status: true },
  );
}
