import { describe, expect, it } from "vitest";
import {
  canonicalQuantity,
  compareQuantity,
  ERR_FORMAT_WRONG,
  parseQuantity,
  quantityError,
  toBytes,
  toMilli,
} from "../../../src/api/quantity.js";

describe("canonical quantities", () => {
  it.each([
    ["100m", "100m"],
    ["1000m", "1"],
    ["1.5", "1500m"],
    ["0.5", "500m"],
    ["1000", "1k"],
    ["1500", "1500"],
    ["1.5k", "1500"],
    ["1.5G", "1500M"],
    ["128974848", "128974848"],
    ["129e6", "129e6"],
    ["1e3", "1e3"],
    ["1Gi", "1Gi"],
    ["1024Mi", "1Gi"],
    ["0.5Gi", "512Mi"],
    ["1.5Gi", "1536Mi"],
    ["1.5Ki", "1536"],
    ["512Ki", "512Ki"],
    ["0Mi", "0"],
    ["-100m", "-100m"],
    ["0.1n", "1n"],
    ["8Ei", "8Ei"],
    [2, "2"],
    [0.25, "250m"],
  ])("%j → %s", (input, want) => {
    expect(canonicalQuantity(input)).toBe(want);
  });

  it.each(["", "abc", "1.2.3", "1Qi", "--1", "1 Gi", "Mi"])("rejects %j", (bad) => {
    expect(quantityError(bad)).toBeDefined();
  });

  it("reports the regex in upstream wording", () => {
    expect(quantityError("abc")).toBe(
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    expect(ERR_FORMAT_WRONG).toContain("quantities must match");
    expect(quantityError("1.2.3")).toBe("unable to parse numeric part of quantity");
    expect(quantityError("1Qi")).toBe(ERR_FORMAT_WRONG);
    expect(quantityError("1ki")).toBe("unable to parse quantity's suffix");
  });
});

describe("comparison and numeric helpers", () => {
  it("compares across formats", () => {
    expect(compareQuantity("1Gi", "1G")).toBe(1);
    expect(compareQuantity("1000m", "1")).toBe(0);
    expect(compareQuantity("500m", "1")).toBe(-1);
  });

  it("rounds up like MilliValue / Value", () => {
    expect(toMilli("100m")).toBe(100);
    expect(toMilli("1")).toBe(1000);
    expect(toMilli("1n")).toBe(1);
    expect(toBytes("1Ki")).toBe(1024);
    expect(toBytes("100m")).toBe(1);
    expect(toBytes("1.5Gi")).toBe(1610612736);
  });

  it("keeps the written format", () => {
    expect(parseQuantity("1Mi").format).toBe("BinarySI");
    expect(parseQuantity("1M").format).toBe("DecimalSI");
    expect(parseQuantity("1e6").format).toBe("DecimalExponent");
  });
});
