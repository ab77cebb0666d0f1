import { describe, expect, it } from "vitest";
import { metaTime, microTime } from "../../../src/api/time.js";

describe("metaTime / microTime", () => {
  const d = new Date(Date.UTC(2026, 10, 26, 20, 31, 7, 123));

  it("writes metav1.Time as upstream does: UTC, whole seconds", () => {
    expect(metaTime(d)).toBe("2026-11-26T20:31:07Z");
    expect(metaTime(new Date(Date.UTC(2026, 0, 1)))).toBe("2026-01-01T00:00:00Z");
  });

  it("writes metav1.MicroTime with six fractional digits", () => {
    expect(microTime(d)).toBe("2026-11-26T20:31:07.123000Z");
    expect(microTime(new Date(Date.UTC(2026, 0, 1)))).toBe("2026-01-01T00:00:00.000000Z");
  });

  it("round-trips through Date.parse to the precision each keeps", () => {
    expect(Date.parse(metaTime(d))).toBe(d.getTime() - 123);
    expect(Date.parse(microTime(d))).toBe(d.getTime());
  });
});
