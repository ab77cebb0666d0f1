import type { Container } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import {
  ConfigError,
  type ConfigLookup,
  type DownwardContext,
  resolveEnv,
} from "../../../src/edge-agent/pods/index.js";

const objects: Record<string, KubeObject> = {
  "ConfigMap/ns1/cfg": {
    kind: "ConfigMap",
    metadata: { name: "cfg" },
    data: { a: "1", "bad key": "x", b: "2" },
  },
  "Secret/ns1/sec": {
    kind: "Secret",
    metadata: { name: "sec" },
    data: { pw: Buffer.from("hunter2").toString("base64") },
  },
};
const lookup: ConfigLookup = (kind, ns, name) => objects[`${kind}/${ns}/${name}`];

function ctx(containers: Container[]): DownwardContext {
  return {
    pod: {
      metadata: {
        name: "web",
        namespace: "ns1",
        uid: "u-1",
        labels: { app: "w" },
        annotations: { note: "n" },
      },
      spec: { nodeName: "node-a", serviceAccountName: "robot", containers },
    },
    podIP: "10.42.0.7",
    hostIP: "192.0.2.1",
    allocatable: { cpuMilli: 4000, memoryBytes: 1024 * 1024 * 1024, ephemeralBytes: 0 },
  };
}

describe("resolveEnv", () => {
  it("resolves values, key refs, downward fields and resources in order, with $(VAR) expansion", () => {
    const c = {
      name: "app",
      resources: { limits: { cpu: "1500m" }, requests: { memory: "64Mi" } },
      envFrom: [{ configMapRef: { name: "cfg" }, prefix: "CM_" }],
      env: [
        { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "pw" } } },
        { name: "A", valueFrom: { configMapKeyRef: { name: "cfg", key: "a" } } },
        { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
        { name: "LBL", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "ANN", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
        {
          name: "MEM_LIMIT_MI",
          valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } },
        },
        { name: "MEM_REQ", valueFrom: { resourceFieldRef: { resource: "requests.memory" } } },
        { name: "URL", value: "http://$(IP):$(PORT)/$(NAME)?x=$$(NAME)" },
        { name: "PORT", value: "8080" },
        { name: "CM_a", value: "override-$(CM_a)" },
      ],
    };
    const r = resolveEnv(c, ctx([c]), lookup);
    const env = Object.fromEntries(r.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      CM_a: "override-1",
      CM_b: "2",
      PW: "hunter2",
      A: "1",
      NAME: "web",
      NS: "ns1",
      UID: "u-1",
      LBL: "w",
      ANN: "n",
      NODE: "node-a",
      SA: "robot",
      IP: "10.42.0.7",
      HOST: "192.0.2.1",
      CPU: "2",
      CPU_M: "1500",
      MEM_LIMIT_MI: "1024",
      MEM_REQ: String(64 * 1024 * 1024),
      // PORT is defined after URL: it stays verbatim, as upstream; $$ escapes
      URL: "http://10.42.0.7:$(PORT)/web?x=$(NAME)",
    });
    expect(r.env[0]?.name).toBe("CM_a");
    expect(r.warnings).toEqual([
      "Keys [bad key] from the EnvFrom configMap ns1/cfg were skipped since they are considered invalid environment variable names.",
    ]);
  });

  it("skips optional references and fails required ones with the kubelet's message", () => {
    const opt = {
      name: "app",
      env: [
        { name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "k", optional: true } } },
        { name: "Y", valueFrom: { secretKeyRef: { name: "sec", key: "nope", optional: true } } },
      ],
      envFrom: [{ secretRef: { name: "gone", optional: true } }],
    };
    expect(resolveEnv(opt, ctx([opt]), lookup).env).toEqual([]);
    const missingKey = {
      name: "app",
      env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "zz" } } }],
    };
    expect(() => resolveEnv(missingKey, ctx([missingKey]), lookup)).toThrow(
      new ConfigError("couldn't find key zz in ConfigMap ns1/cfg"),
    );
    const missingObj = {
      name: "app",
      env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }],
    };
    expect(() => resolveEnv(missingObj, ctx([missingObj]), lookup)).toThrow(
      'couldn\'t get secret ns1/nope: secret "nope" not found',
    );
    const badField = {
      name: "app",
      env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.bogus" } } }],
    };
    expect(() => resolveEnv(badField, ctx([badField]), lookup)).toThrow(
      /unsupported fieldRef fieldPath "spec.bogus"/,
    );
  });
});
