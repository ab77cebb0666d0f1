/**
 * A device end to end: `edge-agent join` (the real CLI, as a child process) against a hub, then
 * kubectl schedules a pod onto it and the agent runs it as Docker containers (sandbox + app),
 * reports Running, and removes the containers when the pod is deleted.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mintToken } from "../helpers/edge-agent-sim.js";
import { startHub, type TestHub } from "../helpers/hub.js";
import { BUSYBOX_IMAGE, ensureBusyboxImage } from "../helpers/images.js";
import { hasDocker, hasKubectl, need } from "../helpers/prereq.js";

const BIN = join(import.meta.dirname, "../../bin/edge-agent.mjs");

function containersOf(node: string): string[] {
  const out = execFileSync("docker", ["ps", "-aq", "--filter", `label=edgekube.io/node=${node}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((l) => l.trim() !== "");
}

describe.skipIf(!need(hasDocker(), hasKubectl()))("an agent runs scheduled pods on Docker", () => {
  let h: TestHub;
  let agent: ChildProcess | undefined;
  let dataDir = "";
  const node = `e2e-dev-${process.pid}`;

  beforeAll(async () => {
    execFileSync("node", ["scripts/build-dev.mjs"]);
    ensureBusyboxImage();
    h = await startHub({ mqttPort: 0 });
    dataDir = mkdtempSync(join(tmpdir(), "ek-agent-"));
    const token = await mintToken(h.hub, h.dataDir);
    agent = spawn(
      process.execPath,
      [
        BIN,
        "join",
        h.hub.url,
        "--token",
        token,
        "--node-name",
        node,
        "--data-dir",
        dataDir,
        "--sandbox-image",
        BUSYBOX_IMAGE,
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await vi.waitFor(
      async () => {
        const r = await h.kubectl(
          ["get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"],
          { allowFail: true },
        );
        expect(r.stdout).toBe("True");
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill("SIGTERM");
      await new Promise((r) => agent!.once("exit", r));
    }
    const left = containersOf(node);
    if (left.length > 0) execFileSync("docker", ["rm", "-f", ...left]);
    await h?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a pod as sandbox + app containers, reports Running, then removes the containers when the pod is deleted", async () => {
    await h.kubectl(["create", "ns", "dev1"]);
    await h.kubectl([
      "run",
      "p1",
      "-n",
      "dev1",
      `--image=${BUSYBOX_IMAGE}`,
      "--image-pull-policy=Never",
      "--restart=Never",
      "--",
      "sh",
      "-c",
      "echo hello-from-edge > /tmp/out; sleep 3600",
    ]);
    await vi.waitFor(
      async () => {
        const r = await h.kubectl([
          "get",
          "pod",
          "p1",
          "-n",
          "dev1",
          "-o",
          "jsonpath={.status.phase}/{.spec.nodeName}",
        ]);
        expect(r.stdout).toBe(`Running/${node}`);
      },
      { timeout: 60_000, interval: 500 },
    );
    const ids = execFileSync(
      "docker",
      [
        "ps",
        "-q",
        "--filter",
        "label=io.kubernetes.pod.name=p1",
        "--filter",
        `label=edgekube.io/node=${node}`,
      ],
      { encoding: "utf8" },
    )
      .split("\n")
      .filter((l) => l !== "");
    expect(ids).toHaveLength(2); // sandbox + app
    const get = await h.kubectl(["get", "pod", "p1", "-n", "dev1"]);
    expect(get.stdout).toMatch(/^p1\s+1\/1\s+Running\s+0\s+/m);
    await h.kubectl(["delete", "pod", "p1", "-n", "dev1", "--grace-period=1", "--timeout=60s"]);
    await vi.waitFor(() => expect(containersOf(node)).toEqual([]), { timeout: 30_000, interval: 500 });
  });
});
