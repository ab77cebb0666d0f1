import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../../src/api/protobuf/index.js";
import { body, meta, Pb } from "./pb.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("decodeProtobufBody: envelope and ObjectMeta", () => {
  it("takes kind/apiVersion from typeMeta and renders ObjectMeta as Go's JSON codec does", () => {
    const m = new Pb()
      .str(1, "c1")
      .str(2, "")
      .str(3, "ns1")
      .int(7, 0) // generation: non-pointer, omitempty → dropped when zero
      .msg(8, new Pb().int(1, 1704164645).int(2, 999)) // nanos are dropped, as upstream does
      .msg(9, new Pb().int(1, 0)) // the Unix epoch is a real time, not Go's zero time
      .int(10, 0) // deletionGracePeriodSeconds is a pointer: an explicit 0 stays
      .entry(11, "app", "web")
      .entry(11, "tier", "")
      .str(14, "f1")
      .str(14, "f2");
    const obj = decodeProtobufBody(body("v1", "ConfigMap", new Pb().msg(1, m)));
    expect(obj).toEqual({
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: {
        name: "c1",
        namespace: "ns1",
        creationTimestamp: "2024-01-02T03:04:05Z",
        deletionTimestamp: "1970-01-01T00:00:00Z",
        deletionGracePeriodSeconds: 0,
        labels: { app: "web", tier: "" },
        finalizers: ["f1", "f2"],
      },
    });
    expect(Object.keys(obj)).toEqual(["kind", "apiVersion", "metadata"]);
  });

  it("renders an empty Time, and Go's zero time, as null", () => {
    const zero = new Pb().int(1, -62135596800);
    const obj = decodeProtobufBody(
      body("v1", "Namespace", new Pb().msg(1, new Pb().str(1, "n").msg(8, zero))),
    );
    expect(obj.metadata).toEqual({ name: "n", creationTimestamp: null });
    const empty = decodeProtobufBody(body("v1", "Namespace", new Pb().msg(1, meta("n"))));
    expect(empty.metadata).toEqual({ name: "n", creationTimestamp: null });
  });

  it("renders MicroTime with six fractional digits", () => {
    const ev = new Pb().msg(1, meta("e")).msg(10, new Pb().int(1, 1704164645).int(2, 123456789));
    expect(decodeProtobufBody(body("v1", "Event", ev))["eventTime"]).toBe("2024-01-02T03:04:05.123456Z");
  });

  it("adds metadata {} when the object has none", () => {
    expect(decodeProtobufBody(body("v1", "ConfigMap", new Pb()))).toEqual({
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: {},
    });
  });
});

describe("decodeProtobufBody: maps, bytes and scalars", () => {
  it("decodes map<string,string>, map<string,bytes> as base64, and keeps an explicit false pointer", () => {
    const cm = new Pb()
      .msg(1, meta("c1"))
      .entry(2, "a", "b")
      .entry(2, "empty", "")
      .entry(3, "bin", Uint8Array.of(0, 1, 2, 255))
      .bool(4, false);
    expect(decodeProtobufBody(body("v1", "ConfigMap", cm))).toMatchObject({
      immutable: false,
      data: { a: "b", empty: "" },
      binaryData: { bin: "AAEC/w==" },
    });
  });

  it("decodes Secret data bytes to the base64 of the value", () => {
    const s = new Pb().msg(1, meta("s1")).entry(2, "k", utf8("v")).str(3, "Opaque");
    expect(decodeProtobufBody(body("v1", "Secret", s))).toMatchObject({
      data: { k: "dg==" },
      type: "Opaque",
    });
  });

  it("treats a map entry without a value as the zero value", () => {
    const entry = new Pb().str(1, "k");
    const s = new Pb().msg(1, meta("s1")).msg(2, entry);
    expect(decodeProtobufBody(body("v1", "Secret", s))["data"]).toEqual({ k: "" });
  });

  it("keeps zero pointers, drops zero omitempty scalars, and sign-extends negative int32", () => {
    const spec = new Pb().int(1, 0).int(5, 0).bool(7, false).int(9, 600);
    const dep = decodeProtobufBody(body("apps/v1", "Deployment", new Pb().msg(1, meta("d")).msg(2, spec)));
    expect(dep["spec"]).toEqual({ replicas: 0, progressDeadlineSeconds: 600 });
    const pc = decodeProtobufBody(
      body("scheduling.k8s.io/v1", "PriorityClass", new Pb().msg(1, meta("p")).int(2, -5)),
    );
    expect(pc["value"]).toBe(-5);
  });

  it("accepts repeated varints both unpacked (gogo) and packed", () => {
    const unpacked = new Pb().int(4, 10).int(4, 20);
    const packed = new Pb().packed(4, [30, -1]);
    const pod = (sc: Pb) =>
      decodeProtobufBody(body("v1", "Pod", new Pb().msg(1, meta("p")).msg(2, new Pb().msg(14, sc))));
    expect(pod(unpacked)["spec"]).toEqual({ securityContext: { supplementalGroups: [10, 20] } });
    expect(pod(packed)["spec"]).toEqual({ securityContext: { supplementalGroups: [30, -1] } });
  });

  it("skips fields the schema does not know, whatever their wire type", () => {
    const cm = new Pb()
      .int(90, 7)
      .fixed32(91, 1)
      .fixed64(92, 2)
      .str(93, "future")
      .msg(1, meta("c1").str(99, "newer field"))
      .entry(2, "a", "b");
    expect(decodeProtobufBody(body("v1", "ConfigMap", cm))).toEqual({
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { name: "c1", creationTimestamp: null },
      data: { a: "b" },
    });
  });
});

describe("decodeProtobufBody: IntOrString, Quantity, StringList", () => {
  const port = (target: Pb) => new Pb().str(1, "http").str(2, "TCP").int(3, 80).msg(4, target);

  it("renders IntOrString type 0 as a number and type 1 as a string", () => {
    const spec = new Pb()
      .msg(1, port(new Pb().int(1, 0).int(2, 8080).str(3, "")))
      .msg(1, port(new Pb().int(1, 1).int(2, 0).str(3, "web")));
    const svc = decodeProtobufBody(body("v1", "Service", new Pb().msg(1, meta("s")).msg(2, spec)));
    expect(svc["spec"]).toEqual({
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080 },
        { name: "http", protocol: "TCP", port: 80, targetPort: "web" },
      ],
    });
    const pdb = new Pb().msg(1, meta("p")).msg(2, new Pb().msg(1, new Pb().int(1, 1).str(3, "50%")));
    expect(decodeProtobufBody(body("policy/v1", "PodDisruptionBudget", pdb))["spec"]).toEqual({
      minAvailable: "50%",
    });
  });

  it("renders Quantity maps as strings, and an empty Quantity as 0", () => {
    const res = new Pb().entry(1, "cpu", new Pb().str(1, "500m")).entry(2, "memory", new Pb());
    const c = new Pb().str(1, "c").str(2, "busybox").msg(8, res);
    const pod = decodeProtobufBody(body("v1", "Pod", new Pb().msg(1, meta("p")).msg(2, new Pb().msg(2, c))));
    expect(pod["spec"]).toEqual({
      containers: [
        { name: "c", image: "busybox", resources: { limits: { cpu: "500m" }, requests: { memory: "0" } } },
      ],
    });
  });

  it("unwraps ExtraValue {items} to a plain string array", () => {
    const spec = new Pb().str(3, "alice").entry(5, "scopes", new Pb().str(1, "a").str(1, "b"));
    const sar = new Pb().msg(1, meta("")).msg(2, spec);
    expect(decodeProtobufBody(body("authorization.k8s.io/v1", "SubjectAccessReview", sar))["spec"]).toEqual({
      user: "alice",
      extra: { scopes: ["a", "b"] },
    });
  });
});

describe("decodeProtobufBody: nested repeated messages and inline structs", () => {
  it("decodes a PodTemplateSpec with several containers, ports, env and an inlined volume source", () => {
    const container = (name: string, port: number) =>
      new Pb()
        .str(1, name)
        .str(2, `${name}:1`)
        .str(3, "sh")
        .str(3, "-c")
        .msg(6, new Pb().str(1, "").int(2, 0).int(3, port).str(4, "TCP").str(5, ""))
        .msg(7, new Pb().str(1, "A").str(2, "1"))
        .msg(
          7,
          new Pb().str(1, "B").msg(3, new Pb().msg(4, new Pb().msg(1, new Pb().str(1, "s")).str(2, "k"))),
        )
        .msg(8, new Pb())
        .msg(9, new Pb().str(1, "data").bool(2, true).str(3, "/data"))
        .msg(10, new Pb().msg(1, new Pb().msg(2, new Pb().str(1, "/healthz").msg(2, new Pb().int(2, port)))))
        .str(14, "IfNotPresent");
    const volume = new Pb().str(1, "data").msg(2, new Pb().msg(6, new Pb().str(1, "s").int(3, 420)));
    const podSpec = new Pb().msg(1, volume).msg(2, container("a", 80)).msg(2, container("b", 81));
    const template = new Pb().msg(1, meta("").entry(11, "app", "x")).msg(2, podSpec);
    const spec = new Pb().int(1, 2).msg(3, template);
    const dep = decodeProtobufBody(body("apps/v1", "Deployment", new Pb().msg(1, meta("d")).msg(2, spec)));
    const c = (name: string, port: number) => ({
      name,
      image: `${name}:1`,
      command: ["sh", "-c"],
      ports: [{ containerPort: port, protocol: "TCP" }],
      env: [
        { name: "A", value: "1" },
        { name: "B", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
      ],
      resources: {},
      volumeMounts: [{ name: "data", readOnly: true, mountPath: "/data" }],
      livenessProbe: { httpGet: { path: "/healthz", port } },
      imagePullPolicy: "IfNotPresent",
    });
    expect(dep["spec"]).toEqual({
      replicas: 2,
      template: {
        metadata: { creationTimestamp: null, labels: { app: "x" } },
        spec: {
          volumes: [{ name: "data", secret: { secretName: "s", defaultMode: 420 } }],
          containers: [c("a", 80), c("b", 81)],
        },
      },
    });
  });
});
