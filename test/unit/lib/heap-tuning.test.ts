import { describe, expect, it } from "vitest";
import { DEFAULT_V8_FLAGS, roleOf, v8FlagsFor } from "../../../src/lib/heap-tuning.js";

describe("roleOf", () => {
  it.each([
    ["edge-hub", [], "hub"],
    ["/usr/local/bin/edge-agent", ["run"], "agent"],
    ["edge-agent-linux-arm64", [], "agent"],
    ["edgekube", ["hub", "server"], "hub"],
    ["./edgekube-linux-amd64", ["agent", "join"], "agent"],
    ["edgekube", ["--version"], "other"],
    ["edgekube", [], "other"],
  ] as const)("%s %j → %s", (invokedAs, argv, role) => {
    expect(roleOf(invokedAs, argv)).toBe(role);
  });
});

describe("v8FlagsFor", () => {
  it("uses the role's defaults when EDGEKUBE_V8_FLAGS is unset", () => {
    expect(v8FlagsFor("agent", {})).toEqual([
      "--semi-space-growth-factor=1",
      "--no-opt",
      "--optimize-for-size",
      "--no-sparkplug",
    ]);
    expect(v8FlagsFor("hub", {})).toEqual(DEFAULT_V8_FLAGS.hub.split(" "));
    expect(v8FlagsFor("other", {})).toEqual([]);
  });

  it("lets EDGEKUBE_V8_FLAGS replace them, an empty value turning tuning off", () => {
    expect(v8FlagsFor("agent", { EDGEKUBE_V8_FLAGS: "" })).toEqual([]);
    expect(v8FlagsFor("hub", { EDGEKUBE_V8_FLAGS: " --a=1   --b " })).toEqual(["--a=1", "--b"]);
  });

  it("ignores words that are not flags", () => {
    expect(v8FlagsFor("hub", { EDGEKUBE_V8_FLAGS: "rm -rf --x=2" })).toEqual(["--x=2"]);
  });
});
