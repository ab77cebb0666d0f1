/**
 * The arm64 release executable as a real agent: built by scripts/build-release.mjs, run under
 * qemu-user (binfmt) on this x86 machine, joined to an x86 hub of a dev cluster, running a pod
 * from the arm64 busybox image (Debian's busybox-static:arm64) on its node's dockerd — and
 * kubectl logs / exec reaching that pod through the hub and MQTT.
 *
 * Design notes
 * - The agent is invoked as `edgekube-linux-arm64 agent join …` (DevCluster's agentCommand);
 *   QEMU_LD_PREFIX points qemu-user at the cross toolchain's arm64 libc.
 * - Under qemu-user node runs 12–17× slower, so every deadline here is in minutes; nothing
 *   sleeps, everything polls.
 * - The release is (re)built incrementally first; EDGEKUBE_REUSE_RELEASE=1 uses dist/release as is.
 * - The image comes from the host's Docker (scripts/build-test-images.sh leaves it there or in
 *   images/build/busybox-arm64.tar); the dev cluster saves it and loads it into the node's dockerd,
 *   and the agent's sandbox image is the same arm64 busybox.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DevClusterFixture } from "../helpers/dev-cluster-fixture.js";
import { hasDocker, hasKubectl, hasRoot, need } from "../helpers/prereq.js";
import { buildRelease, exePath, QEMU_ENV, ROOT, run } from "../helpers/release-exe.js";

const IMAGE = "edgekube/busybox:test-arm64";
const MINUTE = 60_000;
const hasQemu = existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64");

/** Makes sure the arm64 busybox is in the host's Docker: load the tarball, or build it. */
function ensureArm64Image(): void {
  const present = () => {
    try {
      execFileSync("docker", ["image", "inspect", IMAGE], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (present()) return;
  const tar = join(ROOT, "images/build/busybox-arm64.tar");
  if (!existsSync(tar)) execFileSync(join(ROOT, "scripts/build-test-images.sh"), { stdio: "inherit" });
  execFileSync("docker", ["load", "-i", tar], { stdio: "ignore" });
  if (!present()) throw new Error(`${IMAGE} is still missing after loading ${tar}`);
}

describe.skipIf(
  !need(hasRoot(), hasDocker(), hasKubectl(), {
    ok: hasQemu,
    why: "qemu-aarch64 is not registered in binfmt_misc: apt-get install qemu-user-static binfmt-support",
  }),
)("arm64 agent under qemu-user", () => {
  let f: DevClusterFixture | undefined;
  const pod = `arm-${process.pid.toString(36)}`;

  const kubectl = (args: string[], timeoutMs = 3 * MINUTE) => {
    if (!f) throw new Error("no dev cluster");
    return run("/usr/bin/kubectl", ["--kubeconfig", f.cluster.kubeconfig, ...args], { timeoutMs });
  };

  beforeAll(async () => {
    // EDGEKUBE_REUSE_RELEASE=1 runs the executables already in dist/release (built elsewhere)
    if (process.env.EDGEKUBE_REUSE_RELEASE !== "1" || !existsSync(exePath("arm64"))) await buildRelease();
    ensureArm64Image();
    f = new DevClusterFixture({
      image: IMAGE,
      agentCommand: [exePath("arm64"), "agent"],
      agentEnv: QEMU_ENV,
      agentTimeoutMs: 10 * MINUTE,
    });
    await f.up(1);
  }, 30 * MINUTE);

  afterAll(async () => {
    await f?.down();
  }, 5 * MINUTE);

  it("registers the node as arm64", async () => {
    if (!f) throw new Error("no dev cluster");
    const node = await f.cluster.client().get<{
      metadata: { labels?: Record<string, string> };
      status?: { nodeInfo?: { architecture?: string } };
    }>("/api/v1/nodes/node1");
    expect(node.metadata.labels?.["kubernetes.io/arch"]).toBe("arm64");
  });

  it(
    "runs an arm64 pod whose logs and exec go through kubectl",
    async () => {
      const created = await kubectl([
        "run",
        pod,
        `--image=${IMAGE}`,
        "--image-pull-policy=Never",
        "--restart=Never",
        "--overrides",
        JSON.stringify({ spec: { nodeName: "node1", terminationGracePeriodSeconds: 1 } }),
        "--command",
        "--",
        "sh",
        "-c",
        "uname -m; while true; do sleep 1; done",
      ]);
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);

      await vi.waitFor(
        async () => {
          const p = await f?.runningPod(pod);
          if (!p) throw new Error(`${pod} is not running yet`);
        },
        { timeout: 10 * MINUTE, interval: 1000 },
      );

      await vi.waitFor(
        async () => {
          const logs = await kubectl(["logs", pod]);
          if (logs.code !== 0) throw new Error(`kubectl logs failed: ${logs.stderr}`);
          expect(logs.stdout.trim()).toBe("aarch64");
        },
        { timeout: 5 * MINUTE, interval: 1000 },
      );

      const exec = await kubectl(["exec", pod, "--", "uname", "-m"]);
      expect(exec.stderr).toBe("");
      expect(exec.code).toBe(0);
      expect(exec.stdout.trim()).toBe("aarch64");
    },
    20 * MINUTE,
  );
});
