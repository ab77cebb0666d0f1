import { describe, expect, it } from "vitest";
import {
  compileJsonPath,
  crdPrinter,
  evaluateJsonPath,
  goPrint,
  JsonPathError,
} from "../../../../../src/hub/apiserver/printers/index.js";
import { ago, DAY, HOUR, MIN, NOW, obj } from "./fixtures.js";

const widget = obj("example.com/v1", "Widget", "w1", {
  spec: { replicas: 3, size: 2.5, enabled: true, tags: ["a", "b"], labels: { z: 1, a: "x" }, big: 1234567.5 },
  status: {
    conditions: [
      { type: "Synced", status: "False", reason: "Pending" },
      { type: "Ready", status: "True", reason: "Up", lastTransitionTime: ago(2 * HOUR) },
    ],
    nodes: [
      { name: "pi-1", load: 3 },
      { name: "pi-2", load: 7 },
    ],
    observedAt: ago(5 * MIN),
    badDate: "yesterday",
  },
});

describe("JSONPath subset", () => {
  const first = (path: string) => evaluateJsonPath(compileJsonPath(path), widget)[0];

  it("walks fields, indexes, negative indexes, wildcards and slices", () => {
    expect(first(".spec.replicas")).toBe(3);
    expect(first(".status.nodes[1].name")).toBe("pi-2");
    expect(first(".status.nodes[-1].load")).toBe(7);
    expect(evaluateJsonPath(compileJsonPath(".status.nodes[*].name"), widget)).toEqual(["pi-1", "pi-2"]);
    expect(evaluateJsonPath(compileJsonPath(".status.nodes[0:1].name"), widget)).toEqual(["pi-1"]);
    expect(first("{.metadata.name}")).toBe("w1");
    expect(first(".metadata['name']")).toBe("w1");
  });

  it("filters by equality, inequality, comparison and existence", () => {
    expect(first('.status.conditions[?(@.type=="Ready")].reason')).toBe("Up");
    expect(first(".status.conditions[?(@.type=='Synced')].status")).toBe("False");
    expect(first('.status.conditions[?(@.type!="Synced")].type')).toBe("Ready");
    expect(first(".status.nodes[?(@.load > 5)].name")).toBe("pi-2");
    expect(
      evaluateJsonPath(compileJsonPath(".status.conditions[?(@.lastTransitionTime)].type"), widget),
    ).toEqual(["Ready"]);
    // Different kinds never compare equal (text/template semantics).
    expect(first('.status.nodes[?(@.load == "3")].name')).toBeUndefined();
  });

  it("yields nothing for missing keys and out-of-range indexes", () => {
    expect(evaluateJsonPath(compileJsonPath(".spec.nope.deeper"), widget)).toEqual([]);
    expect(evaluateJsonPath(compileJsonPath(".status.nodes[5]"), widget)).toEqual([]);
    expect(evaluateJsonPath(compileJsonPath(".spec.replicas[0]"), widget)).toEqual([]);
  });

  it("finds keys by recursive descent", () => {
    expect(evaluateJsonPath(compileJsonPath("..load"), widget)).toEqual([3, 7]);
  });

  it("rejects unsupported syntax with a message naming the path", () => {
    expect(() => compileJsonPath(".a[?(@.x =~ /y/)]")).toThrow(JsonPathError);
    expect(() => compileJsonPath(".a[unterminated")).toThrow(/unterminated '\['/);
    expect(() => compileJsonPath(".a[?(@.x == bare)]")).toThrow(/neither a quoted string nor a number/);
  });
});

describe("goPrint (fmt.Fprint of unstructured values)", () => {
  it("formats like Go", () => {
    expect(goPrint("s")).toBe("s");
    expect(goPrint(3)).toBe("3");
    expect(goPrint(2.5)).toBe("2.5");
    expect(goPrint(1234567.5)).toBe("1.2345675e+06");
    expect(goPrint(0.00001)).toBe("1e-05");
    expect(goPrint(true)).toBe("true");
    expect(goPrint(["a", 1])).toBe("[a 1]");
    expect(goPrint({ z: 1, a: "x" })).toBe("map[a:x z:1]");
    expect(goPrint(null)).toBe("<nil>");
  });
});

describe("crdPrinter", () => {
  it("prints Name plus Age when the CRD declares no columns", () => {
    const p = crdPrinter([]);
    expect(p.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ["Name", "string", 0],
      ["Age", "date", 0],
    ]);
    expect(p.rows(widget, NOW)).toEqual([["w1", "3d"]]);
    expect(crdPrinter(undefined).rows(widget, NOW)).toEqual([["w1", "3d"]]);
  });

  it("converts each column by its type, null when missing or of the wrong type", () => {
    const p = crdPrinter([
      { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
      { name: "Size", type: "integer", jsonPath: ".spec.size" },
      { name: "Ratio", type: "number", jsonPath: ".spec.size" },
      { name: "Enabled", type: "boolean", jsonPath: ".spec.enabled" },
      { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      {
        name: "Tags",
        type: "string",
        jsonPath: ".spec.tags",
        priority: 1,
        description: "tags of the widget",
      },
      { name: "Observed", type: "date", jsonPath: ".status.observedAt" },
      { name: "Bad", type: "date", jsonPath: ".status.badDate" },
      { name: "Missing", type: "string", jsonPath: ".status.nothing" },
      { name: "WrongType", type: "boolean", jsonPath: ".spec.replicas" },
      { name: "Node", type: "string", jsonPath: ".status.nodes[*].name" },
    ]);
    expect(p.rows(widget, NOW)).toEqual([
      ["w1", 3, 2, 2.5, true, "True", "[a b]", "5m", "<invalid>", null, null, "pi-1"],
    ]);
    expect(p.columns[6]).toEqual({
      name: "Tags",
      type: "string",
      format: "",
      description: "tags of the widget",
      priority: 1,
    });
    expect(p.columns[1]?.description).toBe(
      "Custom resource definition column (in JSONPath format): .spec.replicas",
    );
  });

  it("prints an age for dates and <unknown> for an empty date", () => {
    const p = crdPrinter([{ name: "Since", type: "date", jsonPath: ".status.since" }]);
    const o = obj("example.com/v1", "Widget", "w2", { status: { since: ago(4 * DAY) } });
    expect(p.rows(o, NOW)).toEqual([["w2", "4d"]]);
    const empty = obj("example.com/v1", "Widget", "w3", { status: { since: "" } });
    expect(p.rows(empty, NOW)).toEqual([["w3", "<unknown>"]]);
  });

  it("fails fast on a column path it cannot parse", () => {
    expect(() => crdPrinter([{ name: "X", type: "string", jsonPath: ".a[?(@.b ~ 1)]" }])).toThrow(
      JsonPathError,
    );
  });
});
