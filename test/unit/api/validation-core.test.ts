import { describe, expect, it } from "vitest";
import { setDefaults } from "../../../src/api/defaults/index.js";
import type { StatusCause } from "../../../src/api/errors.js";
import type { KubeObject } from "../../../src/api/object.js";
import { validateCreate, validateUpdate } from "../../../src/api/validation/index.js";

const msgs = (causes: StatusCause[]): string[] =>
  causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
function mk(
  group: string,
  kind: string,
  body: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KubeObject {
  const o: KubeObject = { metadata: { name: "x", namespace: "default", ...meta }, ...body };
  setDefaults(group, kind, o);
  return o;
}
const svc = (spec: Record<string, unknown>, name = "web") => mk("", "Service", { spec }, { name });

describe("Service", () => {
  it("accepts a valid service", () => {
    expect(validateCreate("", "Service", svc({ selector: { app: "web" }, ports: [{ port: 80 }] }))).toEqual(
      [],
    );
    expect(validateCreate("", "Service", svc({ clusterIP: "None", selector: { app: "web" } }))).toEqual([]);
  });

  it.each([
    ["no ports", {}, "spec.ports: Required value"],
    [
      "port out of range",
      { ports: [{ port: 70000, targetPort: 8080 }] },
      "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
    ],
    [
      "unnamed ports",
      { ports: [{ port: 80, name: "http" }, { port: 443 }] },
      "spec.ports[1].name: Required value",
    ],
    [
      "nodePort out of range",
      { type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] },
      "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767",
    ],
    [
      "nodePort on ClusterIP",
      { ports: [{ port: 80, nodePort: 30080 }] },
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ],
    [
      "bad type",
      { type: "Magic", ports: [{ port: 80 }] },
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ],
    [
      "bad targetPort name",
      { ports: [{ port: 80, targetPort: "http_port" }] },
      'spec.ports[0].targetPort: Invalid value: "http_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ],
    ["ExternalName needs a name", { type: "ExternalName" }, "spec.externalName: Required value"],
  ])("%s", (_n, spec, want) => {
    expect(msgs(validateCreate("", "Service", svc(spec)))).toEqual([want]);
  });

  it("names services as DNS-1035 labels", () => {
    expect(msgs(validateCreate("", "Service", svc({ ports: [{ port: 80 }] }, "1web")))[0]).toMatch(
      /^metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/,
    );
  });

  it("honours a configured nodePort range", () => {
    const s = svc({ type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] });
    expect(validateCreate("", "Service", s, { nodePortRange: [8000, 9000] })).toEqual([]);
  });

  it("keeps clusterIP once set", () => {
    const old = svc({ clusterIP: "10.43.0.5", ports: [{ port: 80 }] });
    const next = svc({ clusterIP: "10.43.0.6", ports: [{ port: 80 }] });
    expect(msgs(validateUpdate("", "Service", next, old))).toEqual([
      'spec.clusterIPs[0]: Invalid value: []string{"10.43.0.6"}: may not change once set',
    ]);
  });
});

describe("ConfigMap and Secret", () => {
  it("checks keys and size", () => {
    expect(msgs(validateCreate("", "ConfigMap", mk("", "ConfigMap", { data: { "a/b": "x" } })))).toEqual([
      `data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
    const big = mk("", "ConfigMap", { data: { a: "x".repeat(1024 * 1024 + 1) } });
    expect(msgs(validateCreate("", "ConfigMap", big))).toEqual([
      "Too long: may not be more than 1048576 bytes",
    ]);
  });

  it("freezes immutable ConfigMaps and Secrets", () => {
    const old = mk("", "ConfigMap", { immutable: true, data: { a: "1" } });
    const next = mk("", "ConfigMap", { immutable: true, data: { a: "2" } });
    expect(msgs(validateUpdate("", "ConfigMap", next, old))).toEqual([
      "data: Forbidden: field is immutable when `immutable` is set",
    ]);
    const s1 = mk("", "Secret", { immutable: true, data: { a: "MQ==" } });
    const s2 = mk("", "Secret", { data: { a: "MQ==" } });
    expect(msgs(validateUpdate("", "Secret", s2, s1))).toEqual([
      "immutable: Forbidden: field is immutable when `immutable` is set",
    ]);
  });

  it("requires the keys of typed secrets", () => {
    const tls = mk("", "Secret", { type: "kubernetes.io/tls", data: { "tls.crt": "eA==" } });
    expect(msgs(validateCreate("", "Secret", tls))).toEqual(["data[tls.key]: Required value"]);
    const changed = mk("", "Secret", { type: "Opaque", data: { "tls.crt": "eA==" } });
    expect(msgs(validateUpdate("", "Secret", changed, tls))).toEqual([
      'type: Invalid value: "Opaque": field is immutable',
    ]);
  });
});

describe("storage", () => {
  it("PVC needs access modes and a storage request, and only grows when bound", () => {
    const bad = mk("", "PersistentVolumeClaim", { spec: {} });
    expect(msgs(validateCreate("", "PersistentVolumeClaim", bad))).toEqual([
      "spec.accessModes: Required value: at least 1 access mode is required",
      "spec.resources[storage]: Required value",
    ]);
    const pvc = (size: string, phase = "Bound") =>
      mk("", "PersistentVolumeClaim", {
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } },
        status: { phase },
      });
    expect(validateCreate("", "PersistentVolumeClaim", pvc("1Gi"))).toEqual([]);
    expect(validateUpdate("", "PersistentVolumeClaim", pvc("2Gi"), pvc("1Gi"))).toEqual([]);
    expect(msgs(validateUpdate("", "PersistentVolumeClaim", pvc("512Mi"), pvc("1Gi")))).toEqual([
      "spec.resources.requests.storage: Forbidden: field can not be less than previous value",
    ]);
    expect(
      msgs(validateUpdate("", "PersistentVolumeClaim", pvc("2Gi", "Pending"), pvc("1Gi", "Pending"))),
    ).toEqual([
      "spec: Forbidden: spec is immutable after creation except resources.requests for bound claims",
    ]);
  });

  it("StorageClass needs a provisioner and keeps it", () => {
    const sc = mk("storage.k8s.io", "StorageClass", {}, { namespace: undefined, name: "local" });
    expect(msgs(validateCreate("storage.k8s.io", "StorageClass", sc))).toEqual([
      "provisioner: Required value",
    ]);
    const a = mk("storage.k8s.io", "StorageClass", { provisioner: "a.io/x" }, { namespace: undefined });
    const b = mk("storage.k8s.io", "StorageClass", { provisioner: "b.io/x" }, { namespace: undefined });
    expect(msgs(validateUpdate("storage.k8s.io", "StorageClass", b, a))).toEqual([
      "provisioner: Forbidden: updates to provisioner are forbidden.",
    ]);
  });

  it("forbids a namespace on cluster-scoped kinds", () => {
    const pv = mk("", "PersistentVolume", {
      spec: { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" }, hostPath: { path: "/d" } },
    });
    expect(msgs(validateCreate("", "PersistentVolume", pv))).toEqual([
      "metadata.namespace: Forbidden: not allowed on this type",
    ]);
  });
});

describe("cluster kinds", () => {
  it("Namespace names are DNS labels", () => {
    const ns = mk("", "Namespace", {}, { namespace: undefined, name: "a.b" });
    expect(msgs(validateCreate("", "Namespace", ns))[0]).toMatch(
      /^metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label/,
    );
  });

  it("RBAC rules need verbs and bindings keep roleRef", () => {
    const role = mk(
      "rbac.authorization.k8s.io",
      "Role",
      { rules: [{ apiGroups: [""], resources: ["pods"] }] },
      { name: "system:r" },
    );
    expect(msgs(validateCreate("rbac.authorization.k8s.io", "Role", role))).toEqual([
      "rules[0].verbs: Required value: verbs must contain at least one value",
    ]);
    const rb = (name: string) =>
      mk("rbac.authorization.k8s.io", "RoleBinding", {
        roleRef: { kind: "Role", name },
        subjects: [{ kind: "ServiceAccount", name: "default" }],
      });
    expect(validateCreate("rbac.authorization.k8s.io", "RoleBinding", rb("r"))).toEqual([]);
    expect(msgs(validateUpdate("rbac.authorization.k8s.io", "RoleBinding", rb("r2"), rb("r")))[0]).toMatch(
      /^roleRef: Invalid value: .*: cannot change roleRef$/,
    );
  });

  it("Event namespace must match its object", () => {
    const ev = mk("", "Event", { involvedObject: { kind: "Pod", name: "p", namespace: "other" } });
    expect(msgs(validateCreate("", "Event", ev))).toEqual([
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
  });

  it("EndpointSlice needs a known addressType", () => {
    const es = mk("discovery.k8s.io", "EndpointSlice", { addressType: "IPv5", endpoints: [] });
    expect(msgs(validateCreate("discovery.k8s.io", "EndpointSlice", es))).toEqual([
      'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
  });

  it("Ingress needs a backend or rules, and absolute paths", () => {
    const none = mk("networking.k8s.io", "Ingress", { spec: {} });
    expect(msgs(validateCreate("networking.k8s.io", "Ingress", none))).toEqual([
      "spec: Invalid value: []: either `defaultBackend` or `rules` must be specified",
    ]);
    const rel = mk("networking.k8s.io", "Ingress", {
      spec: {
        rules: [
          {
            http: {
              paths: [
                {
                  path: "api",
                  pathType: "Prefix",
                  backend: { service: { name: "web", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    expect(msgs(validateCreate("networking.k8s.io", "Ingress", rel))).toEqual([
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    ]);
  });

  it("Lease duration must be positive", () => {
    const l = mk("coordination.k8s.io", "Lease", { spec: { leaseDurationSeconds: 0 } });
    expect(msgs(validateCreate("coordination.k8s.io", "Lease", l))).toEqual([
      "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
    ]);
  });

  it("unknown kinds get metadata checks only", () => {
    const w = mk("example.com", "Widget", { spec: { anything: true } }, { labels: { "-bad": "x" } });
    expect(msgs(validateCreate("example.com", "Widget", w))[0]).toMatch(
      /^metadata.labels: Invalid value: "-bad": name part must consist/,
    );
  });
});
