import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type DockerRuntime,
  InitContainerError,
  isPodNotFound,
  type RuntimeContainerStatus,
} from "../../src/edge-agent/runtime/index.js";
import { hasDocker, need } from "../helpers/prereq.js";
import { RuntimeFixture, readAll } from "../helpers/runtime.js";

const SH = ["sh", "-c"];

async function terminated(rt: DockerRuntime, uid: string, name: string): Promise<RuntimeContainerStatus> {
  return vi.waitFor(
    async () => {
      const c = (await rt.podStatus(uid))?.containers.find((x) => x.name === name);
      if (!c || !("terminated" in c.state)) throw new Error(`${name} not terminated yet`);
      return c;
    },
    { timeout: 30_000, interval: 100 },
  );
}

async function execOut(rt: DockerRuntime, uid: string, name: string, cmd: string[]): Promise<string> {
  const s = await rt.exec(uid, name, cmd);
  const [out] = await Promise.all([readAll(s.stdout), readAll(s.stderr)]);
  expect(await s.exitCode).toBe(0);
  return out.trim();
}

describe.skipIf(!need(hasDocker()))("DockerRuntime pods", () => {
  const fx = new RuntimeFixture();
  afterEach(() => fx.cleanup());

  it("joins app containers to the sandbox's network namespace and hostname", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      hostname: "netns-host",
      containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }],
    });
    const status = await rt.runPod(pod);
    expect(status.sandbox?.running).toBe(true);
    const netns = await rt.sandboxNetnsPath(pod.uid);
    expect(netns).toBe(`/proc/${status.sandbox?.pid}/ns/net`);
    const inode = statSync(netns).ino;
    expect(await execOut(rt, pod.uid, "app", ["readlink", "/proc/self/ns/net"])).toBe(`net:[${inode}]`);
    expect(await execOut(rt, pod.uid, "app", ["hostname"])).toBe("netns-host");
    // NetworkMode none: only loopback inside
    expect(await execOut(rt, pod.uid, "app", ["ls", "/sys/class/net"])).toBe("lo");
    const info = await fx.docker.getContainer(status.containers[0]!.containerID.slice(9)).inspect();
    expect(info.HostConfig.NetworkMode).toBe(`container:${status.sandbox?.id}`);
    expect(info.HostConfig.IpcMode).toBe(`container:${status.sandbox?.id}`);
    expect(info.Config.Labels).toMatchObject({
      "io.kubernetes.pod.uid": pod.uid,
      "io.kubernetes.pod.name": pod.name,
      "io.kubernetes.pod.namespace": "test",
      "io.kubernetes.container.name": "app",
      "edgekube.io/role": "app",
      "edgekube.io/attempt": "0",
    });
  });

  it("runs init containers in order before app containers, and stops at a failing one", async () => {
    const rt = fx.runtime();
    const dir = fx.tempDir();
    const mounts = [{ hostPath: dir, containerPath: "/work" }];
    const pod = fx.pod({
      initContainers: [
        { name: "first", image: fx.image, command: SH, args: ["echo one > /work/a"], mounts },
        {
          name: "second",
          image: fx.image,
          command: SH,
          args: ["test -f /work/a && echo two > /work/b"],
          mounts,
        },
      ],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: SH,
          args: ["cat /work/a /work/b > /work/c; sleep 600"],
          mounts,
        },
      ],
    });
    const status = await rt.runPod(pod);
    expect(status.containers.map((c) => `${c.role}:${c.name}`)).toEqual([
      "init:first",
      "init:second",
      "app:app",
    ]);
    expect(status.containers[0]?.state).toMatchObject({ terminated: { exitCode: 0, reason: "Completed" } });
    await vi.waitFor(() => expect(readFileSync(join(dir, "c"), "utf8")).toBe("one\ntwo\n"));

    const bad = fx.pod({
      initContainers: [{ name: "fails", image: fx.image, command: SH, args: ["exit 7"] }],
      containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }],
    });
    const err = await rt.runPod(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InitContainerError);
    expect((err as InitContainerError).exitCode).toBe(7);
    const after = await rt.podStatus(bad.uid);
    expect(after?.containers.map((c) => c.name)).toEqual(["fails"]);
  });

  it("applies env, command/args with $(VAR) expansion and workingDir; propagates exit codes", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      containers: [
        {
          name: "app",
          image: fx.image,
          command: SH,
          args: ['echo "$GREETING $(WHO) $(pwd)"; exit 3'],
          env: [
            { name: "GREETING", value: "hello" },
            { name: "WHO", value: "edge" },
          ],
          workingDir: "/tmp",
        },
      ],
    });
    await rt.runPod(pod);
    const c = await terminated(rt, pod.uid, "app");
    expect(c.state).toMatchObject({ terminated: { exitCode: 3, reason: "Error" } });
    const logs = await rt.logs(pod.uid, "app");
    expect((await readAll(logs.stdout)).trim()).toBe("hello edge /tmp");
  });

  it("applies resources and the security context", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      containers: [
        {
          name: "app",
          image: fx.image,
          command: SH,
          args: ["id -u; id -g; touch /rootfs-write 2>&1; sleep 600"],
          resources: { limits: { cpu: "500m", memory: "64Mi" }, requests: { cpu: "250m", memory: "32Mi" } },
          securityContext: { runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true },
        },
      ],
    });
    const status = await rt.runPod(pod);
    const info = await fx.docker.getContainer(status.containers[0]!.containerID.slice(9)).inspect();
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.CpuQuota).toBe(50_000);
    expect(info.HostConfig.CpuPeriod).toBe(100_000);
    expect(info.HostConfig.CpuShares).toBe(256);
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.Config.User).toBe("1000:2000");
    await vi.waitFor(async () => {
      const out = await readAll((await rt.logs(pod.uid, "app")).stdout);
      expect(out).toMatch(/^1000\n2000\n.*Read-only file system/s);
    });
  });

  it("reports OOMKilled for a container over its memory limit", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      containers: [
        {
          name: "hog",
          image: fx.image,
          command: ["tail", "/dev/zero"],
          resources: { limits: { memory: "16Mi" } },
        },
      ],
    });
    await rt.runPod(pod);
    const c = await terminated(rt, pod.uid, "hog");
    expect(c.state).toMatchObject({ terminated: { exitCode: 137 } });
    // the reason is what the engine recorded: dockerd learns of the OOM kill from a cgroup event
    // that can trail the exit on a loaded machine, and then reports a plain kill (upstream's
    // kubelet shows the same); when it did record it, we must say OOMKilled
    const id = c.containerID.replace("docker://", "");
    const inspect = await fx.docker.getContainer(id).inspect();
    expect((c.state as { terminated: { reason: string } }).terminated.reason).toBe(
      inspect.State.OOMKilled ? "OOMKilled" : "Error",
    );
  });

  it("stops gracefully with SIGTERM and runs preStop; SIGKILLs after the grace period", async () => {
    const rt = fx.runtime();
    const dir = fx.tempDir();
    const mounts = [{ hostPath: dir, containerPath: "/out" }];
    const pod = fx.pod({
      terminationGracePeriodSeconds: 20,
      containers: [
        {
          name: "polite",
          image: fx.image,
          command: SH,
          args: [
            'trap "echo term > /out/marker; exit 0" TERM; echo ready; while true; do sleep 1 & wait $!; done',
          ],
          preStop: ["sh", "-c", "echo hook > /out/prestop"],
          mounts,
        },
      ],
    });
    await rt.runPod(pod);
    await vi.waitFor(async () =>
      expect(await readAll((await rt.logs(pod.uid, "polite")).stdout)).toContain("ready"),
    );
    await rt.stopPod(pod.uid);
    expect(readFileSync(join(dir, "prestop"), "utf8")).toBe("hook\n");
    expect(readFileSync(join(dir, "marker"), "utf8")).toBe("term\n");
    const st = await rt.podStatus(pod.uid);
    expect(st?.containers[0]?.state).toMatchObject({ terminated: { exitCode: 0, reason: "Completed" } });
    expect(st?.sandbox?.running).toBe(false);

    const stubborn = fx.pod({
      containers: [
        {
          name: "deaf",
          image: fx.image,
          command: SH,
          args: ['trap "" TERM; echo ready; while true; do sleep 1; done'],
        },
      ],
    });
    await rt.runPod(stubborn);
    await vi.waitFor(async () =>
      expect(await readAll((await rt.logs(stubborn.uid, "deaf")).stdout)).toContain("ready"),
    );
    await rt.stopPod(stubborn.uid, 1);
    const killed = await rt.podStatus(stubborn.uid);
    expect(killed?.containers[0]?.state).toMatchObject({
      terminated: { exitCode: 137, reason: "Error", signal: 9 },
    });
  });

  it("restarts one container as a new attempt and keeps the previous one for status and logs", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: fx.image, command: SH, args: ["echo run; sleep 600"] }],
    });
    await rt.runPod(pod);
    const restarted = await rt.restartContainer(pod, "app");
    expect(restarted.restartCount).toBe(1);
    expect(restarted.state).toHaveProperty("running");
    expect(restarted.lastState).toHaveProperty("terminated");
    expect(await readAll((await rt.logs(pod.uid, "app", { previous: true })).stdout)).toBe("run\n");
    const err = await rt.logs(pod.uid, "missing").catch((e: unknown) => e);
    expect(isPodNotFound(err)).toBe(true);
  });

  it("replaces a dead sandbox and restarts the pod's containers into the new namespace", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      terminationGracePeriodSeconds: 0,
      initContainers: [{ name: "init", image: fx.image, command: ["true"] }],
      containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }],
    });
    const first = await rt.runPod(pod);
    // idempotent start of a running container: no twin
    expect((await rt.startContainer(pod, "app")).containerID).toBe(first.containers[1]?.containerID);
    await fx.docker.getContainer(first.sandbox!.id).kill();
    await vi.waitFor(async () => expect((await rt.podStatus(pod.uid))?.sandbox?.running).toBe(false));
    const second = await rt.runPod(pod);
    expect(second.sandbox?.id).not.toBe(first.sandbox?.id);
    expect(second.containers.map((c) => [c.name, c.restartCount])).toEqual([
      ["init", 1],
      ["app", 1],
    ]);
    const inode = statSync(await rt.sandboxNetnsPath(pod.uid)).ino;
    expect(await execOut(rt, pod.uid, "app", ["readlink", "/proc/self/ns/net"])).toBe(`net:[${inode}]`);
  });

  it("adopts running pods after a restart of the agent and removes orphans", async () => {
    const first = fx.runtime();
    const keep = fx.pod({ containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }] });
    const orphan = fx.pod({ containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }] });
    const before = await first.runPod(keep);
    await first.runPod(orphan);

    const second = fx.runtime(); // a new agent process: no memory of the first
    const pods = await second.listPods();
    const adopted = pods.find((p) => p.uid === keep.uid);
    expect(adopted).toEqual(before);
    expect(pods.some((p) => p.uid === orphan.uid)).toBe(true);
    // a retried runPod leaves running containers alone
    expect((await second.runPod(keep)).containers[0]?.containerID).toBe(before.containers[0]?.containerID);

    // everything else on this shared dockerd counts as desired: only the orphan may go
    const desired = new Set(pods.map((p) => p.uid).filter((u) => u !== orphan.uid));
    const removed = await second.removeOrphans(desired, 0);
    expect(removed).toEqual([orphan.uid]);
    expect(await second.podStatus(orphan.uid)).toBeUndefined();
    expect((await second.podStatus(keep.uid))?.containers[0]?.state).toHaveProperty("running");
    expect(existsSync(await second.sandboxNetnsPath(keep.uid))).toBe(true);
  });
});
