/**
 * The kubelet-owned node conditions and what a kubelet (here: the edge agent) reports for a
 * healthy node. Shared by the hub's parts that undo their own Unknown marks: the node lifecycle
 * controller (a stale lease renewed) and the edge link (a lost link back).
 */
export const KUBELET_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

export const HEALTHY_NODE_CONDITIONS: Readonly<
  Record<string, { status: string; reason: string; message: string }>
> = {
  Ready: { status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
  MemoryPressure: {
    status: "False",
    reason: "KubeletHasSufficientMemory",
    message: "kubelet has sufficient memory available",
  },
  DiskPressure: {
    status: "False",
    reason: "KubeletHasNoDiskPressure",
    message: "kubelet has no disk pressure",
  },
  PIDPressure: {
    status: "False",
    reason: "KubeletHasSufficientPID",
    message: "kubelet has sufficient PID available",
  },
};
