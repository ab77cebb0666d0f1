import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import {
  fieldSelectorMatchesObject,
  fieldsForObject,
  labelSelectorMatcher,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  unsupportedFieldLabelError,
} from "../../../src/api/selectors.js";

const labels = { app: "web", tier: "front", env: "prod" };

describe("label selector strings", () => {
  it.each([
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["app=db", false],
    ["app in (web,db)", true],
    ["app notin (web)", false],
    ["app notin (db)", true],
    ["missing notin (x)", true],
    ["tier", true],
    ["!tier", false],
    ["!missing", true],
    ["app=web,tier=front", true],
    ["app=web, tier=back", false],
    ["env in (prod), !canary", true],
    ["in=x", false],
    ["app in (in, notin, web)", true],
  ])("%j matches: %s", (sel, want) => {
    expect(parseLabelSelector(sel).matches(labels)).toBe(want);
  });

  it.each([
    ["app=", { app: "" }, true],
    ["app in ()", { app: "" }, true],
    ["n>3", { n: "5" }, true],
    ["n<3", { n: "5" }, false],
  ])("edge %j on %j: %s", (sel, l, want) => {
    expect(parseLabelSelector(sel).matches(l)).toBe(want);
  });

  it.each([
    ["app in", "unable to parse requirement: found '' expected: '('"],
    ["app=web,", "found '', expected: identifier after ','"],
    ["app=web tier", "found 'tier', expected: ',' or 'end of string'"],
    ["app in web", "unable to parse requirement: found 'web' expected: '('"],
    ["app in (web", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["(app)", "found '(', expected: !, identifier, or 'end of string'"],
    ["app foo web", "unable to parse requirement: found 'foo', expected: in, notin, =, ==, !=, gt, lt"],
    [
      "n>x",
      "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
  ])("%j fails with upstream's message", (sel, msg) => {
    const parse = (): unknown => parseLabelSelector(sel);
    expect(parse).toThrow(SelectorError);
    expect(parse).toThrow(msg);
  });

  it("rejects invalid keys and values with field paths", () => {
    expect(() => parseLabelSelector("a b=c")).toThrow("found 'b', expected: in, notin, =, ==, !=, gt, lt");
    expect(() => parseLabelSelector("app=bad!")).toThrow("found '!', expected: ',' or 'end of string'");
    expect(() => parseLabelSelector("-bad=x")).toThrow(
      /unable to parse requirement: <nil>: Invalid value: "-bad": name part must consist/,
    );
    expect(() => parseLabelSelector("app=-x")).toThrow(
      /values\[0\]\[app\]: Invalid value: "-x": a valid label must be/,
    );
  });

  it("prints a normalised form sorted by key", () => {
    expect(parseLabelSelector("tier in (b,a), app=web, !x").toString()).toBe("app=web,tier in (a,b),!x");
  });
});

describe("LabelSelector objects", () => {
  it("nil selects nothing, {} selects everything", () => {
    expect(labelSelectorMatcher(undefined).matches(labels)).toBe(false);
    expect(labelSelectorMatcher({}).matches(labels)).toBe(true);
    expect(labelSelectorMatcher({}).everything).toBe(true);
  });

  it.each([
    [{ matchLabels: { app: "web" } }, true],
    [{ matchLabels: { app: "db" } }, false],
    [{ matchExpressions: [{ key: "env", operator: "In", values: ["prod", "dev"] }] }, true],
    [{ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, false],
    [{ matchExpressions: [{ key: "tier", operator: "Exists" }] }, true],
    [{ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, false],
    [{ matchLabels: { app: "web" }, matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, true],
  ])("%j matches: %s", (sel, want) => {
    expect(labelSelectorMatcher(sel).matches(labels)).toBe(want);
  });

  it("rejects an unknown operator", () => {
    expect(() =>
      labelSelectorMatcher({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }),
    ).toThrow('"Gt" is not a valid label selector operator');
    expect(() =>
      labelSelectorMatcher({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }),
    ).toThrow("for 'in', 'notin' operators, values set can't be empty");
  });
});

describe("field selectors", () => {
  const pod: KubeObject = {
    metadata: { name: "p1", namespace: "default" },
    spec: {
      nodeName: "n1",
      restartPolicy: "Always",
      schedulerName: "default-scheduler",
      serviceAccountName: "default",
    },
    status: { phase: "Running", podIPs: [{ ip: "10.42.0.5" }] },
  };

  it("exposes upstream's pod fields", () => {
    expect(fieldsForObject("", "Pod", pod)).toEqual({
      "metadata.name": "p1",
      "metadata.namespace": "default",
      "spec.nodeName": "n1",
      "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler",
      "spec.serviceAccountName": "default",
      "spec.hostNetwork": "false",
      "status.phase": "Running",
      "status.podIP": "10.42.0.5",
      "status.nominatedNodeName": "",
    });
  });

  it.each([
    ["spec.nodeName=n1", true],
    ["spec.nodeName==n1,status.phase!=Pending", true],
    ["status.phase!=Running", false],
    ["metadata.name=p1,metadata.namespace=other", false],
    ["status.nominatedNodeName=", true],
    ["", true],
  ])("%j matches: %s", (sel, want) => {
    expect(fieldSelectorMatchesObject("", "Pod", parseFieldSelector(sel), pod)).toBe(want);
  });

  it("unescapes values and rejects bad terms", () => {
    expect(parseFieldSelector("a=x\\,y").terms).toEqual([{ field: "a", operator: "=", value: "x,y" }]);
    expect(() => parseFieldSelector("spec.nodeName")).toThrow(
      "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'",
    );
    expect(() => parseFieldSelector("a=b\\q")).toThrow(
      "invalid field selector: invalid escape sequence: \\q",
    );
  });

  it("refuses unsupported field labels in upstream wording", () => {
    expect(unsupportedFieldLabelError("", "Pod", parseFieldSelector("spec.foo=x"))).toBe(
      "field label not supported: spec.foo",
    );
    expect(unsupportedFieldLabelError("", "Pod", parseFieldSelector("status.podIP=1.2.3.4"))).toBeUndefined();
    expect(unsupportedFieldLabelError("", "Secret", parseFieldSelector("type=Opaque"))).toBeUndefined();
    expect(unsupportedFieldLabelError("", "ConfigMap", parseFieldSelector("type=Opaque"))).toBe(
      "field label not supported: type",
    );
  });

  it("exposes event, node, job and replicaset fields", () => {
    const ev: KubeObject = {
      metadata: { name: "e", namespace: "ns" },
      involvedObject: { kind: "Pod", name: "p1", namespace: "ns", uid: "u1" },
      reason: "Pulled",
      reportingComponent: "kubelet",
      type: "Normal",
    };
    const f = fieldsForObject("", "Event", ev);
    expect(f["involvedObject.uid"]).toBe("u1");
    expect(f.source).toBe("kubelet");
    expect(
      fieldsForObject("", "Node", { metadata: { name: "n" }, spec: { unschedulable: true } })[
        "spec.unschedulable"
      ],
    ).toBe("true");
    expect(
      fieldsForObject("batch", "Job", { metadata: { name: "j" }, status: { succeeded: 2 } })[
        "status.successful"
      ],
    ).toBe("2");
    expect(fieldsForObject("apps", "ReplicaSet", { metadata: { name: "r" } })["status.replicas"]).toBe("0");
  });
});
