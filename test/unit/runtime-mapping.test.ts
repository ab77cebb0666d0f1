import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { groupByPod } from "../../src/edge-agent/runtime/docker-status.js";
import {
  buildPod,
  ContainerStartError,
  containerCreateOptions,
  containerLabels,
  containerState,
  cpuShares,
  expandVarRefs,
  FrameDemuxer,
  isValidImageRef,
  kubeTime,
  type PodRuntimeSpec,
  parseIdentity,
  podHostname,
  sandboxCreateOptions,
} from "../../src/edge-agent/runtime/index.js";

function pod(over: Partial<PodRuntimeSpec> = {}): PodRuntimeSpec {
  return {
    uid: "u-1",
    name: "web",
    namespace: "default",
    containers: [{ name: "app", image: "edgekube/busybox:test" }],
    ...over,
  };
}

const ctx = { sandboxId: "sb1", role: "app" as const, attempt: 2, index: 0 };

describe("command and args", () => {
  it("command replaces ENTRYPOINT and clears the image CMD; args alone keep ENTRYPOINT", () => {
    const p = pod();
    const both = containerCreateOptions(
      p,
      { name: "a", image: "i", command: ["sh", "-c"], args: ["echo hi"] },
      ctx,
    );
    expect(both.Entrypoint).toEqual(["sh", "-c"]);
    expect(both.Cmd).toEqual(["echo hi"]);
    const cmdOnly = containerCreateOptions(p, { name: "a", image: "i", command: ["sleep", "1"] }, ctx);
    expect(cmdOnly.Cmd).toEqual([]);
    const argsOnly = containerCreateOptions(p, { name: "a", image: "i", args: ["x"] }, ctx);
    expect(argsOnly.Entrypoint).toBeUndefined();
    expect(argsOnly.Cmd).toEqual(["x"]);
    const neither = containerCreateOptions(p, { name: "a", image: "i" }, ctx);
    expect(neither.Entrypoint).toBeUndefined();
    expect(neither.Cmd).toBeUndefined();
  });

  it("expands $(VAR) from env, keeps unknown references, unescapes $$", () => {
    const env = new Map([
      ["A", "1"],
      ["B", "two"],
    ]);
    expect(expandVarRefs("$(A)-$(B)", env)).toBe("1-two");
    expect(expandVarRefs("$(C)", env)).toBe("$(C)");
    expect(expandVarRefs("$$(A)", env)).toBe("$(A)");
    expect(expandVarRefs("cost $5 $(A", env)).toBe("cost $5 $(A");
    const o = containerCreateOptions(
      pod(),
      { name: "a", image: "i", env: [{ name: "A", value: "v" }], args: ["$(A)"] },
      ctx,
    );
    expect(o.Cmd).toEqual(["v"]);
    expect(o.Env).toEqual(["A=v"]);
  });
});

describe("resources", () => {
  it("maps limits and requests like the kubelet", () => {
    const o = containerCreateOptions(
      pod(),
      {
        name: "a",
        image: "i",
        resources: { limits: { cpu: "500m", memory: "64Mi" }, requests: { cpu: "250m" } },
      },
      ctx,
    );
    expect(o.HostConfig?.Memory).toBe(64 * 1024 * 1024);
    expect(o.HostConfig?.MemorySwap).toBe(64 * 1024 * 1024);
    expect(o.HostConfig?.CpuQuota).toBe(50_000);
    expect(o.HostConfig?.CpuPeriod).toBe(100_000);
    expect(o.HostConfig?.CpuShares).toBe(256);
  });

  it("gives BestEffort 2 shares, a limit-only container shares from its limit, tiny quota the 1ms floor", () => {
    expect(cpuShares(0)).toBe(2);
    expect(cpuShares(1)).toBe(2);
    expect(cpuShares(1000)).toBe(1024);
    const o = containerCreateOptions(
      pod(),
      { name: "a", image: "i", resources: { limits: { cpu: "1m" } } },
      ctx,
    );
    expect(o.HostConfig?.CpuShares).toBe(2);
    expect(o.HostConfig?.CpuQuota).toBe(1000);
    const none = containerCreateOptions(pod(), { name: "a", image: "i" }, ctx);
    expect(none.HostConfig?.Memory).toBeUndefined();
    expect(none.HostConfig?.CpuShares).toBe(2);
  });
});

describe("security context", () => {
  it("merges pod and container settings; container wins", () => {
    const p = pod({
      securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [5], fsGroup: 7 },
    });
    const o = containerCreateOptions(
      p,
      {
        name: "a",
        image: "i",
        securityContext: {
          runAsUser: 2000,
          readOnlyRootFilesystem: true,
          privileged: true,
          allowPrivilegeEscalation: false,
          capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
        },
      },
      ctx,
    );
    expect(o.User).toBe("2000:3000");
    expect(o.HostConfig?.ReadonlyRootfs).toBe(true);
    expect(o.HostConfig?.Privileged).toBe(true);
    expect(o.HostConfig?.CapAdd).toEqual(["NET_ADMIN"]);
    expect(o.HostConfig?.CapDrop).toEqual(["ALL"]);
    expect(o.HostConfig?.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(o.HostConfig?.GroupAdd).toEqual(["5", "7"]);
  });

  it("refuses runAsGroup without runAsUser and runAsNonRoot with a root user", () => {
    expect(() =>
      containerCreateOptions(pod(), { name: "a", image: "i", securityContext: { runAsGroup: 1 } }, ctx),
    ).toThrow(/runAsGroup without runAsUser/);
    const nonRoot = { name: "a", image: "i", securityContext: { runAsNonRoot: true } };
    expect(() => containerCreateOptions(pod(), nonRoot, { ...ctx, imageUser: "" })).toThrow(
      ContainerStartError,
    );
    expect(() => containerCreateOptions(pod(), nonRoot, { ...ctx, imageUser: "app" })).toThrow(
      /non-numeric user/,
    );
    expect(containerCreateOptions(pod(), nonRoot, { ...ctx, imageUser: "1000" }).User).toBeUndefined();
    expect(() =>
      containerCreateOptions(
        pod(),
        { ...nonRoot, securityContext: { runAsNonRoot: true, runAsUser: 0 } },
        ctx,
      ),
    ).toThrow(/breaks non-root policy/);
  });
});

describe("namespaces, labels, mounts", () => {
  it("joins the sandbox's network and IPC, pid only with shareProcessNamespace", () => {
    const o = containerCreateOptions(pod(), { name: "a", image: "i" }, ctx);
    expect(o.HostConfig?.NetworkMode).toBe("container:sb1");
    expect(o.HostConfig?.IpcMode).toBe("container:sb1");
    expect(o.HostConfig?.PidMode).toBeUndefined();
    const shared = containerCreateOptions(
      pod({ shareProcessNamespace: true }),
      { name: "a", image: "i" },
      ctx,
    );
    expect(shared.HostConfig?.PidMode).toBe("container:sb1");
  });

  it("sandbox owns network none (host with hostNetwork) and the truncated hostname", () => {
    const s = sandboxCreateOptions(pod({ hostname: `${"h".repeat(62)}-x` }), {
      image: "p",
      command: ["sleep", "1"],
      attempt: 0,
    });
    expect(s.HostConfig?.NetworkMode).toBe("none");
    expect(s.HostConfig?.IpcMode).toBe("shareable");
    expect(s.Hostname).toBe("h".repeat(62));
    expect(s.name).toBe("k8s_POD_web_default_u-1_0");
    const h = sandboxCreateOptions(pod({ hostNetwork: true }), {
      image: "p",
      command: ["sleep", "1"],
      attempt: 0,
    });
    expect(h.HostConfig?.NetworkMode).toBe("host");
    expect(h.Hostname).toBeUndefined();
    expect(podHostname(pod())).toBe("web");
  });

  it("labels round-trip through parseIdentity, foreign containers are ignored", () => {
    const o = containerCreateOptions(pod(), { name: "a", image: "i", preStop: ["sh", "-c", "x"] }, ctx);
    const id = parseIdentity(o.Labels);
    expect(id).toMatchObject({
      podUid: "u-1",
      podName: "web",
      container: "a",
      role: "app",
      attempt: 2,
      graceSeconds: 30,
    });
    expect(id?.preStop).toEqual(["sh", "-c", "x"]);
    expect(o.name).toBe("k8s_a_web_default_u-1_2");
    expect(parseIdentity({ "io.kubernetes.pod.uid": "x" })).toBeUndefined();
    expect(
      parseIdentity({ ...containerLabels({ ...id!, role: "app" }), "edgekube.io/prestop": "{bad" })?.preStop,
    ).toBeUndefined();
  });

  it("maps bind mounts and exposed ports", () => {
    const o = containerCreateOptions(
      pod(),
      {
        name: "a",
        image: "i",
        mounts: [{ hostPath: "/h", containerPath: "/c", readOnly: true }],
        ports: [{ containerPort: 80 }, { containerPort: 53, protocol: "UDP" }],
      },
      ctx,
    );
    expect(o.HostConfig?.Mounts).toEqual([{ Type: "bind", Source: "/h", Target: "/c", ReadOnly: true }]);
    expect(Object.keys(o.ExposedPorts ?? {})).toEqual(["80/tcp", "53/udp"]);
  });
});

function inspect(
  id: string,
  labels: Record<string, string>,
  state: Partial<Docker.ContainerInspectInfo["State"]>,
) {
  return {
    Id: id,
    Image: "sha256:abc",
    Config: { Image: "edgekube/busybox:test", Labels: labels },
    State: {
      Status: "exited",
      Running: false,
      OOMKilled: false,
      Pid: 0,
      ExitCode: 0,
      Error: "",
      StartedAt: "2024-05-01T10:00:00.123456789Z",
      FinishedAt: "2024-05-01T10:00:05.5Z",
      ...state,
    },
  } as unknown as Docker.ContainerInspectInfo;
}

describe("status", () => {
  it("reports reasons like upstream", () => {
    expect(containerState(inspect("a", {}, { ExitCode: 0 }))).toMatchObject({
      terminated: { reason: "Completed", exitCode: 0 },
    });
    expect(containerState(inspect("a", {}, { ExitCode: 3 }))).toMatchObject({
      terminated: { reason: "Error", exitCode: 3 },
    });
    expect(containerState(inspect("a", {}, { ExitCode: 137, OOMKilled: true }))).toMatchObject({
      terminated: { reason: "OOMKilled", signal: 9 },
    });
    expect(containerState(inspect("a", {}, { Status: "running", Running: true }))).toEqual({
      running: { startedAt: "2024-05-01T10:00:00Z" },
    });
    expect(
      containerState(inspect("a", {}, { Status: "created", StartedAt: "0001-01-01T00:00:00Z" })),
    ).toEqual({
      waiting: { reason: "ContainerCreating" },
    });
    expect(kubeTime("0001-01-01T00:00:00Z")).toBe("");
  });

  it("builds a pod: newest attempt is current, the one before is lastState, init before app in spec order", () => {
    const p = pod();
    const l = (container: string, role: "init" | "app" | "sandbox", attempt: number, index = 0) =>
      containerLabels({
        podUid: p.uid,
        podName: p.name,
        podNamespace: p.namespace,
        container,
        role,
        attempt,
        index,
      });
    const pods = groupByPod([
      inspect("sb", l("POD", "sandbox", 0), { Status: "running", Running: true, Pid: 42 }),
      inspect("b0", l("b", "app", 0, 1), { Status: "running", Running: true }),
      inspect("a0", l("a", "app", 0, 0), { ExitCode: 1 }),
      inspect("a1", l("a", "app", 1, 0), { Status: "running", Running: true }),
      inspect("i0", l("init", "init", 0), { ExitCode: 0 }),
      inspect("x", {}, {}),
    ]);
    expect([...pods.keys()]).toEqual(["u-1"]);
    const built = buildPod("u-1", pods.get("u-1")!);
    expect(built.sandbox).toEqual({ id: "sb", running: true, pid: 42, netnsPath: "/proc/42/ns/net" });
    expect(built.containers.map((c) => [c.name, c.role, c.restartCount])).toEqual([
      ["init", "init", 0],
      ["a", "app", 1],
      ["b", "app", 0],
    ]);
    expect(built.containers[1]?.lastState).toMatchObject({ terminated: { exitCode: 1, reason: "Error" } });
    expect(built.containers[1]?.containerID).toBe("docker://a1");
  });
});

describe("FrameDemuxer", () => {
  it("splits multiplexed frames across chunk boundaries", async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const d = new FrameDemuxer(out, err);
    const frame = (kind: number, s: string) => {
      const h = Buffer.alloc(8);
      h[0] = kind;
      h.writeUInt32BE(Buffer.byteLength(s), 4);
      return Buffer.concat([h, Buffer.from(s)]);
    };
    const all = Buffer.concat([frame(1, "hello "), frame(2, "oops"), frame(1, "world")]);
    const chunks: string[] = [];
    const errs: string[] = [];
    out.on("data", (c: Buffer) => chunks.push(c.toString()));
    err.on("data", (c: Buffer) => errs.push(c.toString()));
    for (let i = 0; i < all.length; i += 5) d.write(all.subarray(i, i + 5));
    d.end();
    await new Promise((r) => out.once("end", r));
    expect(chunks.join("")).toBe("hello world");
    expect(errs.join("")).toBe("oops");
  });

  it("hands consecutive frames of one stream over as one write, keeping stdout/stderr order", async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const d = new FrameDemuxer(out, err);
    const frame = (kind: number, s: string) => {
      const h = Buffer.alloc(8);
      h[0] = kind;
      h.writeUInt32BE(Buffer.byteLength(s), 4);
      return Buffer.concat([h, Buffer.from(s)]);
    };
    const seen: string[] = [];
    out.on("data", (c: Buffer) => seen.push(`out:${c.toString()}`));
    err.on("data", (c: Buffer) => seen.push(`err:${c.toString()}`));
    const lines = Array.from({ length: 100 }, (_, i) => frame(1, `line ${i}\n`));
    d.write(Buffer.concat([...lines, frame(2, "E\n"), frame(1, "after\n")]));
    d.end();
    await new Promise((r) => out.once("end", r));
    const expected = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join("");
    expect(seen).toEqual([`out:${expected}`, "err:E\n", "out:after\n"]);
  });
});

describe("image references", () => {
  it("accepts docker references and rejects malformed ones", () => {
    for (const ok of [
      "busybox",
      "edgekube/busybox:test",
      "registry.local:5000/a/b:1.0",
      "a@sha256:" + "0".repeat(64),
    ]) {
      expect(isValidImageRef(ok), ok).toBe(true);
    }
    for (const bad of ["", "repo/UPPER", "a b", "x:", ":tag"]) expect(isValidImageRef(bad), bad).toBe(false);
  });
});
