/**
 * What a CLI entry point (hubMain, agentMain) writes to stdout and stderr, captured per test in
 * the calling file: `io.out` and `io.err` start empty in every test (assign "" to reset within
 * one), and the spies are removed after it.
 */
import { afterEach, beforeEach, vi } from "vitest";

export function captureCliOutput(): { out: string; err: string } {
  const io = { out: "", err: "" };
  beforeEach(() => {
    io.out = "";
    io.err = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      io.out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      io.err += String(s);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());
  return io;
}
