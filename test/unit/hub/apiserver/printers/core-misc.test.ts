import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../../../src/api/object.js";
import { printerFor } from "../../../../../src/hub/apiserver/printers/index.js";
import { ago, DAY, MIN, NOW, obj } from "./fixtures.js";

function cells(resource: string, o: KubeObject, group = ""): unknown[] {
  const r = printerFor(group, resource).rows(o, NOW)[0];
  if (!r) throw new Error("no row");
  return r;
}

function headers(resource: string, group = ""): string[] {
  return printerFor(group, resource).columns.map((c) => (c.priority ? `${c.name}*` : c.name));
}

describe("services", () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    obj("v1", "Service", "web", { spec, status });

  it("has upstream columns (SELECTOR only with -o wide)", () => {
    expect(headers("services")).toEqual([
      "Name",
      "Type",
      "Cluster-IP",
      "External-IP",
      "Port(s)",
      "Age",
      "Selector*",
    ]);
  });

  it("prints a ClusterIP service", () => {
    const s = svc({
      type: "ClusterIP",
      clusterIP: "10.43.0.20",
      clusterIPs: ["10.43.0.20"],
      selector: { app: "web", tier: "fe" },
      ports: [
        { port: 80, protocol: "TCP", targetPort: 8080 },
        { port: 53, protocol: "UDP" },
      ],
    });
    expect(cells("services", s)).toEqual([
      "web",
      "ClusterIP",
      "10.43.0.20",
      "<none>",
      "80/TCP,53/UDP",
      "3d",
      "app=web,tier=fe",
    ]);
  });

  it("prints NodePort ports as port:nodePort/proto and external IPs", () => {
    const s = svc({
      type: "NodePort",
      clusterIPs: ["10.43.0.21"],
      externalIPs: ["192.0.2.1", "192.0.2.2"],
      ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }],
    });
    expect(cells("services", s).slice(1, 5)).toEqual([
      "NodePort",
      "10.43.0.21",
      "192.0.2.1,192.0.2.2",
      "80:30080/TCP",
    ]);
  });

  it("prints a LoadBalancer as <pending>, then its sorted unique ingress IPs/hostnames, then with externalIPs", () => {
    const spec = {
      type: "LoadBalancer",
      clusterIPs: ["10.43.0.22"],
      ports: [{ port: 443, nodePort: 31443, protocol: "TCP" }],
    };
    expect(cells("services", svc(spec))[3]).toBe("<pending>");
    const ingress = [
      { ip: "198.51.100.12" },
      { ip: "198.51.100.11" },
      { hostname: "lb.example" },
      { ip: "198.51.100.11" },
    ];
    expect(cells("services", svc(spec, { loadBalancer: { ingress } }))[3]).toBe(
      "198.51.100.11,198.51.100.12,lb.example",
    );
    expect(
      cells(
        "services",
        svc(
          { ...spec, externalIPs: ["192.0.2.9"] },
          { loadBalancer: { ingress: [{ ip: "198.51.100.11" }] } },
        ),
      )[3],
    ).toBe("198.51.100.11,192.0.2.9");
  });

  it("prints headless and ExternalName services", () => {
    expect(
      cells("services", svc({ type: "ClusterIP", clusterIP: "None", clusterIPs: ["None"] })).slice(2, 7),
    ).toEqual(["None", "<none>", "<none>", "3d", "<none>"]);
    expect(
      cells("services", svc({ type: "ExternalName", externalName: "db.example.com" })).slice(1, 4),
    ).toEqual(["ExternalName", "<none>", "db.example.com"]);
  });
});

describe("nodes", () => {
  const node = (
    labels: Record<string, string>,
    spec: Record<string, unknown>,
    status: Record<string, unknown>,
  ) => obj("v1", "Node", "pi-1", { spec, status }, { labels, namespace: undefined });

  it("has upstream columns", () => {
    expect(headers("nodes")).toEqual([
      "Name",
      "Status",
      "Roles",
      "Age",
      "Version",
      "Internal-IP*",
      "External-IP*",
      "OS-Image*",
      "Kernel-Version*",
      "Container-Runtime*",
    ]);
  });

  it("prints status, sorted roles, version and wide node info", () => {
    const n = node(
      {
        "node-role.kubernetes.io/worker": "",
        "node-role.kubernetes.io/edge": "true",
        "kubernetes.io/role": "gateway",
      },
      {},
      {
        conditions: [
          { type: "MemoryPressure", status: "False" },
          { type: "Ready", status: "True" },
        ],
        addresses: [
          { type: "Hostname", address: "pi-1" },
          { type: "InternalIP", address: "198.51.100.2" },
        ],
        nodeInfo: {
          kubeletVersion: "v1.32.0-edgekube",
          osImage: "Debian GNU/Linux 12 (bookworm)",
          kernelVersion: "6.1.0-rpi7",
          containerRuntimeVersion: "docker://24.0.7",
        },
      },
    );
    expect(cells("nodes", n)).toEqual([
      "pi-1",
      "Ready",
      "edge,gateway,worker",
      "3d",
      "v1.32.0-edgekube",
      "198.51.100.2",
      "<none>",
      "Debian GNU/Linux 12 (bookworm)",
      "6.1.0-rpi7",
      "docker://24.0.7",
    ]);
  });

  it("prints NotReady,SchedulingDisabled / Unknown and <none>/<unknown> placeholders", () => {
    const cordoned = node(
      {},
      { unschedulable: true },
      { conditions: [{ type: "Ready", status: "Unknown" }] },
    );
    expect(cells("nodes", cordoned).slice(1, 3)).toEqual(["NotReady,SchedulingDisabled", "<none>"]);
    const fresh = node({}, {}, {});
    expect(cells("nodes", fresh)).toEqual([
      "pi-1",
      "Unknown",
      "<none>",
      "3d",
      "",
      "<none>",
      "<none>",
      "<unknown>",
      "<unknown>",
      "<unknown>",
    ]);
  });
});

describe("namespaces, configmaps, secrets, serviceaccounts", () => {
  it("prints a namespace phase", () => {
    expect(cells("namespaces", obj("v1", "Namespace", "edge", { status: { phase: "Terminating" } }))).toEqual(
      ["edge", "Terminating", "3d"],
    );
  });

  it("counts configmap data and binaryData as an integer", () => {
    const cm = obj("v1", "ConfigMap", "cfg", { data: { a: "1", b: "2" }, binaryData: { c: "AA==" } });
    expect(cells("configmaps", cm)).toEqual(["cfg", 3, "3d"]);
    expect(cells("configmaps", obj("v1", "ConfigMap", "empty"))).toEqual(["empty", 0, "3d"]);
  });

  it("prints a secret's type and data count", () => {
    const s = obj("v1", "Secret", "tls", {
      type: "kubernetes.io/tls",
      data: { "tls.crt": "eA==", "tls.key": "eA==" },
    });
    expect(headers("secrets")).toEqual(["Name", "Type", "Data", "Age"]);
    expect(cells("secrets", s)).toEqual(["tls", "kubernetes.io/tls", 2, "3d"]);
  });

  it("counts service account secrets", () => {
    expect(cells("serviceaccounts", obj("v1", "ServiceAccount", "default"))).toEqual(["default", 0, "3d"]);
    expect(
      cells("serviceaccounts", obj("v1", "ServiceAccount", "bot", { secrets: [{ name: "t" }] })),
    ).toEqual(["bot", 1, "3d"]);
  });
});

describe("endpoints", () => {
  it("prints up to three ip:port pairs then '+ N more...'", () => {
    const ep = obj("v1", "Endpoints", "web", {
      subsets: [
        {
          addresses: [{ ip: "10.42.1.2" }, { ip: "10.42.1.3" }],
          ports: [
            { name: "http", port: 80 },
            { name: "https", port: 443 },
          ],
        },
      ],
    });
    expect(cells("endpoints", ep)).toEqual([
      "web",
      "10.42.1.2:80,10.42.1.3:80,10.42.1.2:443 + 1 more...",
      "3d",
    ]);
  });

  it("prints <none> without subsets and bare IPs (v6 bracketed with ports) otherwise", () => {
    expect(cells("endpoints", obj("v1", "Endpoints", "e"))[1]).toBe("<none>");
    const headless = obj("v1", "Endpoints", "h", { subsets: [{ addresses: [{ ip: "10.42.0.5" }] }] });
    expect(cells("endpoints", headless)[1]).toBe("10.42.0.5");
    const v6 = obj("v1", "Endpoints", "v6", {
      subsets: [{ addresses: [{ ip: "fd00::1" }], ports: [{ port: 53 }] }],
    });
    expect(cells("endpoints", v6)[1]).toBe("[fd00::1]:53");
  });
});

describe("resourcequotas and default-printed kinds", () => {
  it("splits requests and limits, sorted by resource name", () => {
    const rq = obj("v1", "ResourceQuota", "q", {
      status: {
        hard: { "limits.memory": "2Gi", pods: "10", "requests.cpu": "1", "limits.cpu": "2" },
        used: { pods: "3", "requests.cpu": "500m", "limits.cpu": "1" },
      },
    });
    expect(cells("resourcequotas", rq)).toEqual([
      "q",
      "pods: 3/10, requests.cpu: 500m/1",
      "limits.cpu: 1/2, limits.memory: 0/2Gi",
      "3d",
    ]);
  });

  it("prints limitranges with the default Name / Created At table", () => {
    expect(headers("limitranges")).toEqual(["Name", "Created At"]);
    expect(printerFor("", "limitranges").columns[1]?.type).toBe("date");
    const lr = obj("v1", "LimitRange", "lr", {}, { creationTimestamp: "2024-12-01T08:09:10Z" });
    expect(cells("limitranges", lr)).toEqual(["lr", "2024-12-01T08:09:10Z"]);
  });
});

describe("events (core and events.k8s.io)", () => {
  const wideHeaders = [
    "Last Seen",
    "Type",
    "Reason",
    "Object",
    "Subobject*",
    "Source*",
    "Message",
    "First Seen*",
    "Count*",
    "Name*",
  ];

  it("has the same upstream columns for both groups", () => {
    expect(headers("events")).toEqual(wideHeaders);
    expect(headers("events", "events.k8s.io")).toEqual(wideHeaders);
  });

  it("prints a core event", () => {
    const ev = obj("v1", "Event", "p1.17a", {
      involvedObject: { kind: "Pod", name: "p1", fieldPath: "spec.containers{app}" },
      reason: "BackOff",
      type: "Warning",
      message: "  Back-off restarting failed container\n",
      source: { component: "kubelet", host: "pi-1" },
      firstTimestamp: ago(DAY + 2 * 60 * MIN),
      lastTimestamp: ago(5 * MIN),
      count: 12,
    });
    expect(cells("events", ev)).toEqual([
      "5m",
      "Warning",
      "BackOff",
      "pod/p1",
      "spec.containers{app}",
      "kubelet, pi-1",
      "Back-off restarting failed container",
      "26h",
      12,
      "p1.17a",
    ]);
  });

  it("falls back to eventTime, reportingComponent and count 1 for a new-style core event", () => {
    const ev = obj("v1", "Event", "n.1", {
      involvedObject: { kind: "Node" },
      reason: "Started",
      type: "Normal",
      eventTime: "2025-01-10T11:59:29.500000Z",
      reportingComponent: "edge-agent",
      reportingInstance: "",
    });
    expect(cells("events", ev)).toEqual([
      "30s",
      "Normal",
      "Started",
      "node",
      "",
      "edge-agent",
      "",
      "30s",
      1,
      "n.1",
    ]);
  });

  it("reads an events.k8s.io/v1 event through the core field mapping, series first", () => {
    const ev = obj("events.k8s.io/v1", "Event", "d.2", {
      regarding: { kind: "Deployment", name: "web" },
      note: "Scaled up replica set web-5d to 3",
      reason: "ScalingReplicaSet",
      type: "Normal",
      eventTime: ago(10 * MIN),
      series: { count: 4, lastObservedTime: ago(MIN) },
      reportingController: "deployment-controller",
      reportingInstance: "hub",
      deprecatedCount: 1,
    });
    expect(cells("events", ev, "events.k8s.io")).toEqual([
      "60s",
      "Normal",
      "ScalingReplicaSet",
      "deployment/web",
      "",
      "deployment-controller, hub",
      "Scaled up replica set web-5d to 3",
      "10m",
      4,
      "d.2",
    ]);
  });
});
