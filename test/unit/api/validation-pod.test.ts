import { describe, expect, it } from "vitest";
import { setDefaults } from "../../../src/api/defaults/index.js";
import { ApiError, type StatusCause } from "../../../src/api/errors.js";
import type { KubeObject } from "../../../src/api/object.js";
import { validateCreate, validateUpdate } from "../../../src/api/validation/index.js";

function pod(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  const p: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p1", namespace: "default", ...meta },
    spec,
  };
  setDefaults("", "Pod", p);
  return p;
}
const ctr = (extra: Record<string, unknown> = {}) => ({ name: "c", image: "busybox:1.36", ...extra });
const msgs = (causes: StatusCause[]): string[] => causes.map((c) => `${c.field}: ${c.message}`);

describe("Pod create", () => {
  it("accepts a valid pod", () => {
    expect(validateCreate("", "Pod", pod({ containers: [ctr()] }))).toEqual([]);
  });

  it("renders the kubectl message for a missing image", () => {
    const causes = validateCreate("", "Pod", pod({ containers: [{ name: "c" }] }, { name: "bad1" }));
    expect(causes).toEqual([
      { reason: "FieldValueRequired", field: "spec.containers[0].image", message: "Required value" },
    ]);
    expect(ApiError.invalid("Pod", "bad1", causes).message).toBe(
      'Pod "bad1" is invalid: spec.containers[0].image: Required value',
    );
  });

  it.each([
    [
      "name not DNS-1123",
      pod({ containers: [ctr()] }, { name: "Bad_Name" }),
      `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ],
    [
      "bad label value",
      pod({ containers: [ctr()] }, { labels: { app: "bad value!" } }),
      `metadata.labels: Invalid value: "bad value!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    ],
    ["no containers", pod({ containers: [] }), "spec.containers: Required value"],
    [
      "duplicate container names",
      pod({ containers: [ctr(), ctr()] }),
      'spec.containers[1].name: Duplicate value: "c"',
    ],
    [
      "container port out of range",
      pod({ containers: [ctr({ ports: [{ containerPort: 70000 }] })] }),
      "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    ],
    [
      "bad protocol",
      pod({ containers: [ctr({ ports: [{ containerPort: 80, protocol: "HTTP" }] })] }),
      'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ],
    [
      "port name too long",
      pod({ containers: [ctr({ ports: [{ containerPort: 80, name: "very-long-port-name" }] })] }),
      'spec.containers[0].ports[0].name: Invalid value: "very-long-port-name": must be no more than 15 characters',
    ],
    [
      "bad restartPolicy",
      pod({ restartPolicy: "Sometimes", containers: [ctr()] }),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ],
    [
      "mount of an undeclared volume",
      pod({ containers: [ctr({ volumeMounts: [{ name: "data", mountPath: "/data" }] })] }),
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    ],
    [
      "mount without path",
      pod({ volumes: [{ name: "data" }], containers: [ctr({ volumeMounts: [{ name: "data" }] })] }),
      "spec.containers[0].volumeMounts[0].mountPath: Required value",
    ],
    [
      "volume name not a label",
      pod({ volumes: [{ name: "Data", emptyDir: {} }], containers: [ctr()] }),
      expect.stringMatching(
        /^spec\.volumes\[0\]\.name: Invalid value: "Data": a lowercase RFC 1123 label must consist/,
      ),
    ],
    [
      "duplicate volume",
      pod({ volumes: [{ name: "d" }, { name: "d" }], containers: [ctr()] }),
      'spec.volumes[1].name: Duplicate value: "d"',
    ],
    [
      "env var with '='",
      pod({ containers: [ctr({ env: [{ name: "A=B", value: "x" }] })] }),
      `spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    ],
    [
      "bad quantity",
      pod({ containers: [ctr({ resources: { requests: { memory: "lots" } } })] }),
      `spec.containers[0].resources.requests[memory]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    ],
    [
      "requests above limits",
      pod({ containers: [ctr({ resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } })] }),
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
    [
      "probe without handler",
      pod({ containers: [ctr({ livenessProbe: {} })] }),
      "spec.containers[0].livenessProbe: Required value: must specify a handler type",
    ],
    [
      "liveness successThreshold",
      pod({ containers: [ctr({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } })] }),
      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
    ],
    [
      "toleration with seconds but not NoExecute",
      pod({
        containers: [ctr()],
        tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 5 }],
      }),
      `spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when \`tolerationSeconds\` is set`,
    ],
  ])("%s", (_name, obj, want) => {
    expect(msgs(validateCreate("", "Pod", obj))).toEqual([want]);
  });

  it("requires a namespace and name", () => {
    const p = pod({ containers: [ctr()] }, { name: undefined, namespace: undefined });
    expect(msgs(validateCreate("", "Pod", p))).toEqual([
      "metadata.name: Required value: name or generateName is required",
      "metadata.namespace: Required value",
    ]);
    const g = pod({ containers: [ctr()] }, { name: undefined, generateName: "web-" });
    expect(validateCreate("", "Pod", g)).toEqual([]);
  });

  it("limits annotations to 256 KiB in total", () => {
    const p = pod({ containers: [ctr()] }, { annotations: { big: "x".repeat(256 * 1024) } });
    expect(msgs(validateCreate("", "Pod", p))).toEqual([
      "metadata.annotations: Too long: may not be more than 262144 bytes",
    ]);
  });
});

describe("Pod update", () => {
  const old = pod({ containers: [ctr()] }, { uid: "u1" });
  const next = (mutate: (spec: Record<string, unknown>) => void): KubeObject => {
    const n = structuredClone(old);
    mutate(n.spec as Record<string, unknown>);
    return n;
  };

  it("allows image changes and added tolerations", () => {
    const n = next((s) => {
      (s.containers as Record<string, unknown>[])[0]!.image = "busybox:1.37";
      (s.tolerations as unknown[]).push({ key: "x", operator: "Exists" });
    });
    expect(validateUpdate("", "Pod", n, old)).toEqual([]);
  });

  it("forbids other spec changes with upstream's message", () => {
    const n = next((s) => {
      s.restartPolicy = "Never";
    });
    const causes = validateUpdate("", "Pod", n, old);
    expect(causes).toHaveLength(1);
    expect(causes[0]?.field).toBe("spec");
    expect(causes[0]?.message).toMatch(
      /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`,`spec.initContainers\[\*\].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` \(only additions to existing tolerations\),`spec.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)\n/,
    );
    expect(causes[0]?.message).toContain('RestartPolicy: "Never"');
  });

  it("forbids removing a toleration and adding containers", () => {
    expect(
      msgs(
        validateUpdate(
          "",
          "Pod",
          next((s) => {
            s.tolerations = [];
          }),
          old,
        ),
      ),
    ).toEqual([
      "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
    ]);
    expect(
      msgs(
        validateUpdate(
          "",
          "Pod",
          next((s) => {
            (s.containers as unknown[]).push(ctr({ name: "d" }));
          }),
          old,
        ),
      ),
    ).toEqual(["spec.containers: Forbidden: pod updates may not add or remove containers"]);
  });

  it("keeps name and uid immutable", () => {
    const n = structuredClone(old);
    n.metadata = { ...n.metadata, uid: "u2" };
    expect(msgs(validateUpdate("", "Pod", n, old))).toEqual([
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
  });
});
