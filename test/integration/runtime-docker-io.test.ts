import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ImagePullError } from "../../src/edge-agent/runtime/index.js";
import { hasDocker, need } from "../helpers/prereq.js";
import { RuntimeFixture, readAll } from "../helpers/runtime.js";

const SH = ["sh", "-c"];

describe.skipIf(!need(hasDocker()))("DockerRuntime logs, exec and images", () => {
  const fx = new RuntimeFixture();
  const tags: string[] = [];
  afterEach(async () => {
    await fx.cleanup();
    for (const t of tags.splice(0)) spawnSync("docker", ["rmi", t], { stdio: "ignore" });
  });

  it("serves logs demuxed into stdout and stderr, with tail, timestamps and follow", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: "app",
          image: fx.image,
          command: SH,
          args: [
            "for i in 1 2 3 4 5; do echo line$i; done; sleep 0.3; echo oops >&2; read go; echo after-$go; sleep 600",
          ],
          stdin: true,
        },
      ],
    });
    await rt.runPod(pod);
    await vi.waitFor(async () =>
      expect(await readAll((await rt.logs(pod.uid, "app")).stderr)).toBe("oops\n"),
    );
    const all = await rt.logs(pod.uid, "app");
    const [out, err] = await Promise.all([readAll(all.stdout), readAll(all.stderr)]);
    expect(out).toBe("line1\nline2\nline3\nline4\nline5\n");
    expect(err).toBe("oops\n");
    const tail = await rt.logs(pod.uid, "app", { tail: 2 });
    const [tailOut, tailErr] = await Promise.all([readAll(tail.stdout), readAll(tail.stderr)]);
    // tail counts lines of both streams together (the program writes stderr 0.3 s after stdout,
    // since Docker records its two pipes in no guaranteed order)
    expect(tailOut).toBe("line5\n");
    expect(tailErr).toBe("oops\n");
    const stamped = await rt.logs(pod.uid, "app", { tail: 1, timestamps: true });
    expect(await readAll(stamped.stderr)).toMatch(/^\d{4}-\d\d-\d\dT\S+Z oops\n$/);
    await readAll(stamped.stdout);

    // follow: a line written after the stream opened arrives on it
    const follow = await rt.logs(pod.uid, "app", { follow: true, tail: 0 });
    follow.stderr.resume();
    let seen = "";
    follow.stdout.on("data", (c: Buffer) => {
      seen += c.toString();
    });
    const attached = await fx.docker
      .getContainer((await rt.podStatus(pod.uid))!.containers[0]!.containerID.slice(9))
      .attach({
        stream: true,
        stdin: true,
        hijack: true,
      });
    attached.write("now\n");
    await vi.waitFor(() => expect(seen).toBe("after-now\n"));
    follow.close();
    (attached as unknown as { destroy(): void }).destroy();
    await vi.waitFor(() => expect(follow.stdout.readableEnded || follow.stdout.destroyed).toBe(true));
  });

  it("execs with stdin, separate stderr, exit codes, and a tty", async () => {
    const rt = fx.runtime();
    const pod = fx.pod({
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }],
    });
    await rt.runPod(pod);
    const cat = await rt.exec(pod.uid, "app", ["sh", "-c", "cat; echo err >&2"], { stdin: true });
    cat.stdin?.end("hello from stdin\n");
    const [out, err] = await Promise.all([readAll(cat.stdout), readAll(cat.stderr)]);
    expect(out).toBe("hello from stdin\n");
    expect(err).toBe("err\n");
    expect(await cat.exitCode).toBe(0);

    const failing = await rt.exec(pod.uid, "app", ["sh", "-c", "exit 42"]);
    await Promise.all([readAll(failing.stdout), readAll(failing.stderr)]);
    expect(await failing.exitCode).toBe(42);

    // the command waits for a line, so it reads the size after the initial resize has been applied
    const tty = await rt.exec(pod.uid, "app", ["sh", "-c", "read x; stty size"], {
      tty: true,
      stdin: true,
      size: { rows: 33, cols: 101 },
    });
    tty.stdin?.write("go\n");
    const ttyOut = await readAll(tty.stdout);
    expect(ttyOut.trim().split(/\r?\n/).at(-1)).toBe("33 101");
    expect(await tty.exitCode).toBe(0);
  });

  it("maps pull failures and missing images to ImagePullError without breaking the runtime", async () => {
    const rt = fx.runtime();
    const never = await rt.ensureImage("edgekube/not-loaded:never", "Never").catch((e: unknown) => e);
    expect(never).toBeInstanceOf(ImagePullError);
    expect((never as ImagePullError).reason).toBe("ErrImageNeverPull");
    const invalid = await rt.ensureImage("Bad Name", "IfNotPresent").catch((e: unknown) => e);
    expect((invalid as ImagePullError).reason).toBe("InvalidImageName");
    // registry.invalid never resolves (RFC 6761): the pull fails at DNS and sends nothing anywhere
    const pod = fx.pod({
      containers: [{ name: "app", image: "registry.invalid/x:1", imagePullPolicy: "IfNotPresent" }],
    });
    const pulled = await rt.runPod(pod).catch((e: unknown) => e);
    expect(pulled).toBeInstanceOf(ImagePullError);
    expect((pulled as ImagePullError).reason).toBe("ErrImagePull");
    expect((pulled as ImagePullError).message).toMatch(/Failed to pull image "registry.invalid\/x:1"/);
    expect(await rt.podStatus(pod.uid)).toBeUndefined();
    // still usable, and present images need no pull even with the default policy
    expect((await rt.ensureImage(fx.image)).imageID).toMatch(/^sha256:/);
  });

  it("loads an airgap image tarball", async () => {
    const rt = fx.runtime();
    const tag = `edgekube/airgap-${randomUUID().slice(0, 8)}:1`;
    const tar = join(fx.tempDir(), "image.tar");
    execFileSync("docker", ["tag", fx.image, tag]);
    tags.push(tag);
    execFileSync("docker", ["save", "-o", tar, tag]);
    execFileSync("docker", ["rmi", tag], { stdio: "ignore" });
    const never = await rt.ensureImage(tag, "Never").catch((e: unknown) => e);
    expect(never).toBeInstanceOf(ImagePullError);
    expect(await rt.loadImageTar(tar)).toEqual([tag]);
    expect((await rt.ensureImage(tag, "Never")).imageID).toMatch(/^sha256:/);
    await expect(rt.loadImageTar(join(fx.tempDir(), "missing.tar"))).rejects.toThrow();
  });
});
