import { describe, expect, it } from "vitest";
import { setDefaults } from "../../../src/api/defaults/index.js";
import type { StatusCause } from "../../../src/api/errors.js";
import type { KubeObject } from "../../../src/api/object.js";
import { cronScheduleError, validateCreate, validateUpdate } from "../../../src/api/validation/index.js";

const msgs = (causes: StatusCause[]): string[] => causes.map((c) => `${c.field}: ${c.message}`);
const podTemplate = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({
  metadata: { labels },
  spec: { containers: [{ name: "c", image: "busybox:1.36" }], ...spec },
});
function obj(group: string, kind: string, spec: Record<string, unknown>, name = "w"): KubeObject {
  const o: KubeObject = { metadata: { name, namespace: "default" }, spec };
  setDefaults(group, kind, o);
  return o;
}
const deploy = (spec: Record<string, unknown>) =>
  obj("apps", "Deployment", {
    selector: { matchLabels: { app: "web" } },
    template: podTemplate({ app: "web" }),
    ...spec,
  });

describe("apps workloads", () => {
  it("accepts a valid deployment", () => {
    expect(validateCreate("apps", "Deployment", deploy({}))).toEqual([]);
  });

  it.each([
    [
      "selector mismatch",
      { template: podTemplate({ app: "other" }) },
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    ],
    ["missing selector", { selector: undefined }, "spec.selector: Required value"],
    [
      "empty selector",
      { selector: {} },
      "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
    ],
    [
      "negative replicas",
      { replicas: -1 },
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ],
    [
      "template restartPolicy",
      { template: podTemplate({ app: "web" }, { restartPolicy: "Never" }) },
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ],
    [
      "missing image in template",
      { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c" }] } } },
      "spec.template.spec.containers[0].image: Required value",
    ],
    [
      "zero surge and unavailable",
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ],
  ])("Deployment: %s", (_n, spec, want) => {
    expect(msgs(validateCreate("apps", "Deployment", deploy(spec)))).toEqual([want]);
  });

  it("keeps the selector immutable", () => {
    const old = deploy({});
    const next = deploy({
      selector: { matchLabels: { app: "web", v: "2" } },
      template: podTemplate({ app: "web", v: "2" }),
    });
    expect(msgs(validateUpdate("apps", "Deployment", next, old))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
    const scaled = deploy({ replicas: 5 });
    expect(validateUpdate("apps", "Deployment", scaled, old)).toEqual([]);
  });

  it("StatefulSet names are DNS labels and its spec is mostly frozen", () => {
    const sts = obj("apps", "StatefulSet", {
      selector: { matchLabels: { a: "b" } },
      template: podTemplate({ a: "b" }),
      serviceName: "s",
    });
    expect(validateCreate("apps", "StatefulSet", sts)).toEqual([]);
    const dotted = obj(
      "apps",
      "StatefulSet",
      { selector: { matchLabels: { a: "b" } }, template: podTemplate({ a: "b" }) },
      "a.b",
    );
    expect(msgs(validateCreate("apps", "StatefulSet", dotted))[0]).toMatch(
      /^metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label/,
    );
    const changed = structuredClone(sts);
    (changed.spec as Record<string, unknown>).serviceName = "other";
    expect(msgs(validateUpdate("apps", "StatefulSet", changed, sts))).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  it("DaemonSet and ReplicaSet share the selector rule", () => {
    const ds = obj("apps", "DaemonSet", {
      selector: { matchLabels: { a: "b" } },
      template: podTemplate({ a: "c" }),
    });
    expect(msgs(validateCreate("apps", "DaemonSet", ds))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`',
    ]);
    const rs = obj("apps", "ReplicaSet", {
      selector: { matchExpressions: [{ key: "a", operator: "In", values: ["b"] }] },
      template: podTemplate({ a: "b" }),
    });
    expect(validateCreate("apps", "ReplicaSet", rs)).toEqual([]);
  });
});

describe("batch", () => {
  const job = (tspec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject => {
    const o: KubeObject = {
      metadata: { name: "j", namespace: "default", ...meta },
      spec: { template: podTemplate({}, tspec) },
    };
    setDefaults("batch", "Job", o);
    return o;
  };

  it("requires OnFailure or Never", () => {
    expect(validateCreate("batch", "Job", job({ restartPolicy: "Never" }))).toEqual([]);
    expect(msgs(validateCreate("batch", "Job", job({ restartPolicy: "Always" })))).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    expect(msgs(validateCreate("batch", "Job", job({})))).toEqual([
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
  });

  it("a manual selector must select the template's labels, as the apps kinds", () => {
    const manual = (labels: Record<string, string>): KubeObject => ({
      metadata: { name: "m", namespace: "default" },
      spec: {
        manualSelector: true,
        selector: { matchLabels: { a: "b" } },
        template: podTemplate(labels, { restartPolicy: "Never" }),
      },
    });
    expect(validateCreate("batch", "Job", manual({ a: "b" }))).toEqual([]);
    expect(msgs(validateCreate("batch", "Job", manual({ a: "c" })))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`',
    ]);
  });

  it("accepts its generated selector and freezes the template", () => {
    const j = job({ restartPolicy: "Never" }, { uid: "u1" });
    expect(validateCreate("batch", "Job", j)).toEqual([]);
    const next = structuredClone(j);
    (
      (next.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec
        .containers[0] as Record<string, unknown>
    ).image = "x:2";
    const causes = validateUpdate("batch", "Job", next, j);
    expect(causes.map((c) => c.field)).toEqual(["spec.template"]);
    expect(causes[0]?.message).toMatch(/: field is immutable$/);
  });

  it.each([
    ["*/5 * * * *", undefined],
    ["0 0 31 2 *", undefined],
    ["@hourly", undefined],
    ["@every 1h30m", undefined],
    ["* * *", "expected exactly 5 fields, found 3: [* * *]"],
    ["61 * * * *", "end of range (61) above maximum (59): 61"],
    ["0 0 * * 7", "end of range (7) above maximum (6): 7"],
    ["0 0 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ["@sometimes", "unrecognized descriptor: @sometimes"],
  ])("cron %j", (s, want) => {
    expect(cronScheduleError(s)).toBe(want);
  });

  it("validates CronJobs", () => {
    const cj: KubeObject = {
      metadata: { name: "c".repeat(53), namespace: "default" },
      spec: {
        schedule: "61 * * * *",
        jobTemplate: { spec: { template: podTemplate({}, { restartPolicy: "OnFailure" }) } },
      },
    };
    setDefaults("batch", "CronJob", cj);
    expect(msgs(validateCreate("batch", "CronJob", cj))).toEqual([
      `metadata.name: Invalid value: "${"c".repeat(53)}": must be no more than 52 characters`,
      'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    ]);
  });
});
