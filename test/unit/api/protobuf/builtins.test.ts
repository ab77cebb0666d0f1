import { describe, expect, it } from "vitest";
import { decodeBuiltin, formatGoDuration, formatRfc3339 } from "../../../../src/api/protobuf/builtins.js";
import { Pb } from "./pb.js";

const noNested = (): unknown => {
  throw new Error("no nested object expected");
};

describe("builtin types", () => {
  it("formats durations exactly like Go's time.Duration.String()", () => {
    const cases: [bigint, string][] = [
      [0n, "0s"],
      [999n, "999ns"],
      [1500n, "1.5µs"],
      [20_000n, "20µs"],
      [1_500_000n, "1.5ms"],
      [1_000_000_000n, "1s"],
      [90_000_000_000n, "1m30s"],
      [3_723_500_000_000n, "1h2m3.5s"],
      [3_600_000_000_000n, "1h0m0s"],
      [-1_000_000_000n, "-1s"],
    ];
    for (const [ns, want] of cases) expect(formatGoDuration(ns), `${ns}ns`).toBe(want);
    expect(decodeBuiltin("Duration", new Pb().int(1, 90_000_000_000).finish(), noNested)).toBe("1m30s");
  });

  it("formats RFC3339 and RFC3339Micro in UTC", () => {
    expect(formatRfc3339(1704164645)).toBe("2024-01-02T03:04:05Z");
    expect(formatRfc3339(1704164645, 5_000)).toBe("2024-01-02T03:04:05.000005Z");
    expect(formatRfc3339(-1)).toBe("1969-12-31T23:59:59Z");
  });

  it("decodes RawExtension / FieldsV1 as the embedded JSON, null when empty", () => {
    const raw = new Pb().bytes(1, new TextEncoder().encode('{"f:metadata":{"f:labels":{}}}')).finish();
    expect(decodeBuiltin("FieldsV1", raw, noNested)).toEqual({ "f:metadata": { "f:labels": {} } });
    expect(decodeBuiltin("RawExtension", new Uint8Array(0), noNested)).toBeNull();
    expect(() =>
      decodeBuiltin("RawExtension", new Pb().bytes(1, Uint8Array.of(1, 2)).finish(), noNested),
    ).toThrow("neither JSON nor a k8s protobuf object");
  });

  it("hands a k8s\\0 object inside a RawExtension to the nested decoder", () => {
    const inner = Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 1, 2);
    const got = decodeBuiltin("RawExtension", new Pb().bytes(1, inner).finish(), (b) => ({
      nestedBytes: b.length,
    }));
    expect(got).toEqual({ nestedBytes: 6 });
  });

  it("decodes IntOrString with its type deciding, not which value is set", () => {
    expect(decodeBuiltin("IntOrString", new Pb().int(1, 0).int(2, 0).str(3, "").finish(), noNested)).toBe(0);
    expect(decodeBuiltin("IntOrString", new Pb().int(1, 1).int(2, 0).str(3, "").finish(), noNested)).toBe("");
    expect(decodeBuiltin("IntOrString", new Pb().int(2, -3).finish(), noNested)).toBe(-3);
  });
});
