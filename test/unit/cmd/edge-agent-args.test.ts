/**
 * `edge-agent` argument handling (src/cmd/edge-agent.ts), through agentMain itself: the help
 * text, exit codes and the usage messages a user sees for a wrong command or flag. Every case
 * fails or answers before anything is read from disk, dialled or started, so nothing here
 * touches the host; a data dir under a fresh temp path guards the `run` cases anyway.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { agentMain } from "../../../src/cmd/edge-agent.js";
import { captureCliOutput } from "../../helpers/cli-output.js";

const dir = mkdtempSync(join(tmpdir(), "ek-agent-args-"));
const dataDir = join(dir, "never-created");
const io = captureCliOutput();
beforeEach(() => vi.stubEnv("EDGEKUBE_TOKEN", undefined));
afterEach(() => vi.unstubAllEnvs());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edge-agent help", () => {
  it("prints the help and exits 2 without a command, 0 when asked", async () => {
    expect(await agentMain([])).toBe(2);
    expect(io.out).toMatch(/^Usage: edge-agent <command> \[flags\]\n/);
    for (const flag of ["--token T", "--sandbox-image REF", "--delete-data", "--data-dir DIR"])
      expect(io.out).toContain(flag);
    expect(io.out).toContain("(default registry.k8s.io/pause:3.10;");
    const help = io.out;
    for (const args of [
      ["help"],
      ["--help"],
      ["-h"],
      ["join", "--help"],
      ["run", "-h"],
      ["status", "--help"],
    ]) {
      io.out = "";
      expect(await agentMain(args)).toBe(0);
      expect(io.out).toBe(help);
    }
    expect(io.err).toBe("");
  });
});

describe("edge-agent usage errors (exit 2, message on stderr)", () => {
  const cases: [string[], string][] = [
    [["frobnicate"], 'edge-agent: unknown command "frobnicate"\n\nUsage: edge-agent'],
    [
      ["image", "export"],
      'edge-agent image: unknown command "export": use "edge-agent image import FILE.tar"\n',
    ],
    [
      ["join"],
      'edge-agent join: give exactly one hub address, e.g. "edge-agent join https://HUB:6443 --token T" (got 0)\n',
    ],
    [
      ["join", "https://hub.example:6443"],
      'edge-agent join: --token is required: create one on the hub with "edge-hub token create"\n',
    ],
    [["run", "extra", "--data-dir", dataDir], 'edge-agent run: unexpected argument "extra"\n'],
    [
      ["run", "--cluster-dns", "ten.dot", "--data-dir", dataDir],
      '--cluster-dns: "ten.dot" is not an IPv4 address (e.g. 10.43.0.10)\n',
    ],
    [["run", "--bogus"], 'run "edge-agent run --help" for the flags\n'],
    [["reset", "leftover"], 'edge-agent reset: unexpected argument "leftover"\n'],
  ];
  it.each(cases)("%j", async (args, message) => {
    expect(await agentMain(args)).toBe(2);
    expect(io.err.startsWith(message) || io.err.endsWith(message)).toBe(true);
    expect(io.out).toBe("");
  });

  it("reports a bad --node-ip of run as a usage error naming the command", async () => {
    expect(await agentMain(["run", "--node-ip", "not-an-ip", "--data-dir", dataDir])).toBe(2);
    expect(io.err).toMatch(/^edge-agent run: .*not-an-ip/);
  });

  it("fails (exit 1) rather than guessing when run finds no joined state", async () => {
    expect(await agentMain(["run", "--no-pods", "--data-dir", dataDir, "--log-level", "error"])).toBe(1);
    expect(io.err).toMatch(/^edge-agent: /);
  });
});
