/**
 * The stand-in module of scripts/lib/bundle-stubs.mjs' lazy requires: nothing is loaded until the
 * module is used, and then it behaves as the real one (property reads, calls, `new`).
 */
import { describe, expect, it } from "vitest";
import { lazySource } from "../../scripts/lib/bundle-stubs.mjs";

class Real {
  constructor(readonly x: number) {}
}
const real = Object.assign((a: number) => a * 2, { Real, value: 42 });

function instantiate(): { exports: unknown; loads: () => number } {
  let loads = 0;
  const module: { exports: unknown } = { exports: {} };
  const req = (id: string) => {
    expect(id).toBe("the-real-module");
    loads++;
    return real;
  };
  new Function("module", "require", lazySource("the-real-module"))(module, req);
  return { exports: module.exports, loads: () => loads };
}

describe("lazySource", () => {
  it("loads nothing at require time, nor when __importDefault reads __esModule", () => {
    const m = instantiate();
    expect((m.exports as { __esModule?: unknown }).__esModule).toBeUndefined();
    expect(m.loads()).toBe(0);
  });

  it("loads the real module once, at the first use, and then acts as it", () => {
    const m = instantiate();
    const lazy = m.exports as typeof real;
    expect(lazy.value).toBe(42);
    expect(m.loads()).toBe(1);
    expect(new lazy.Real(3).x).toBe(3);
    expect(lazy(21)).toBe(42);
    expect("Real" in lazy).toBe(true);
    expect(m.loads()).toBe(1);
  });
});
