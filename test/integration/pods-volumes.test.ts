import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LABEL_POD_UID } from "../../src/edge-agent/runtime/index.js";
import { type AnyStatus, PodsFixture } from "../helpers/pods.js";
import { hasDocker, need } from "../helpers/prereq.js";
import { readAll } from "../helpers/runtime.js";

const WAIT = { timeout: 45_000, interval: 100 };

describe.skipIf(!need(hasDocker()))("PodManager on dockerd: volumes and images", () => {
  let fx: PodsFixture;
  afterEach(async () => {
    await fx.cleanup();
  });

  async function running(uid: string): Promise<AnyStatus> {
    return vi.waitFor(() => {
      const s = fx.reporter.latest(uid);
      if (s?.phase !== "Running") throw new Error(`pod not Running yet: ${JSON.stringify(s)}`);
      return s;
    }, WAIT);
  }

  async function execOut(uid: string, container: string, cmd: string[]): Promise<string> {
    const s = await fx.runtime().exec(uid, container, cmd);
    const [out, err] = await Promise.all([readAll(s.stdout), readAll(s.stderr)]);
    const code = await s.exitCode;
    if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
    return out.trim();
  }

  it("propagates a ConfigMap update into the running container", async () => {
    fx = new PodsFixture();
    const cm = {
      kind: "ConfigMap",
      metadata: { name: "app-cfg", namespace: fx.namespace },
      data: { mode: "v1" },
    };
    fx.source.put(cm);
    const pod = fx.pod({
      volumes: [{ name: "cfg", configMap: { name: "app-cfg" } }],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sleep", "600"],
          volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    await running(uid);
    expect(await execOut(uid, "app", ["cat", "/etc/cfg/mode"])).toBe("v1");
    const before = await execOut(uid, "app", ["readlink", "/etc/cfg/..data"]);
    fx.source.put({ ...cm, data: { mode: "v2", extra: "x" } });
    await vi.waitFor(
      async () => expect(await execOut(uid, "app", ["cat", "/etc/cfg/mode"])).toBe("v2"),
      WAIT,
    );
    expect(await execOut(uid, "app", ["cat", "/etc/cfg/extra"])).toBe("x");
    expect(await execOut(uid, "app", ["readlink", "/etc/cfg/..data"])).not.toBe(before);
    // the mount is read-only for the container
    await expect(execOut(uid, "app", ["sh", "-c", "echo x > /etc/cfg/new"])).rejects.toThrow(/exited/);
    expect(fx.reporter.latest(uid)?.containerStatuses[0].restartCount).toBe(0);
  });

  it("writes secret files with their mode bits, items and defaultMode", async () => {
    fx = new PodsFixture();
    fx.source.put({
      kind: "Secret",
      metadata: { name: "creds", namespace: fx.namespace },
      data: { user: Buffer.from("admin").toString("base64"), pass: Buffer.from("s3cret").toString("base64") },
    });
    const pod = fx.pod({
      volumes: [
        {
          name: "sec",
          secret: {
            secretName: "creds",
            defaultMode: 0o400,
            items: [
              { key: "user", path: "user.txt" },
              { key: "pass", path: "nested/pass.txt", mode: 0o600 },
            ],
          },
        },
      ],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sleep", "600"],
          volumeMounts: [{ name: "sec", mountPath: "/sec" }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    await running(uid);
    expect(await execOut(uid, "app", ["stat", "-L", "-c", "%a", "/sec/user.txt"])).toBe("400");
    expect(await execOut(uid, "app", ["stat", "-L", "-c", "%a", "/sec/nested/pass.txt"])).toBe("600");
    expect(await execOut(uid, "app", ["cat", "/sec/nested/pass.txt"])).toBe("s3cret");
  });

  it("shares an emptyDir between two containers, and mounts medium Memory as tmpfs", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({
      volumes: [
        { name: "shared", emptyDir: {} },
        { name: "fast", emptyDir: { medium: "Memory", sizeLimit: "8Mi" } },
      ],
      containers: [
        {
          name: "writer",
          image: fx.image,
          command: ["sh", "-c", "echo hello > /data/msg; sleep 600"],
          volumeMounts: [
            { name: "shared", mountPath: "/data" },
            { name: "fast", mountPath: "/fast" },
          ],
        },
        {
          name: "reader",
          image: fx.image,
          command: ["sleep", "600"],
          volumeMounts: [{ name: "shared", mountPath: "/in", readOnly: true }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    await running(uid);
    await vi.waitFor(
      async () => expect(await execOut(uid, "reader", ["cat", "/in/msg"])).toBe("hello"),
      WAIT,
    );
    await expect(execOut(uid, "reader", ["touch", "/in/x"])).rejects.toThrow(/exited/);
    if (process.getuid?.() === 0) {
      const mounts = await execOut(uid, "writer", ["cat", "/proc/mounts"]);
      expect(mounts).toMatch(/^tmpfs \/fast tmpfs .*size=8192k/m);
    }
    expect(existsSync(join(fx.dataDir, "pods", uid, "volumes", "emptydir", "shared", "msg"))).toBe(true);
  });

  it("refuses a subPath that escapes its volume, with an event, and starts nothing", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({
      volumes: [{ name: "scratch", emptyDir: {} }],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sleep", "600"],
          volumeMounts: [{ name: "scratch", mountPath: "/x", subPath: "../../../../etc" }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    const s = await vi.waitFor(() => {
      const x = fx.reporter.latest(uid);
      if (x?.containerStatuses?.[0]?.state?.waiting?.reason !== "CreateContainerConfigError")
        throw new Error(`no config error yet: ${JSON.stringify(x)}`);
      return x;
    }, WAIT);
    expect(s.phase).toBe("Pending");
    expect(s.containerStatuses[0].state.waiting.message).toMatch(
      /subPath "..\/..\/..\/..\/etc" must not contain '..'/,
    );
    expect(fx.reporter.eventsOf(uid, "Failed")[0]?.message).toMatch(/must not contain '\.\.'/);
    const app = await fx.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_POD_UID}=${uid}`, "edgekube.io/role=app"] },
    });
    expect(app).toEqual([]);
  });

  it("projects downwardAPI and kube-api-access (ca.crt, namespace; no token until the hub issues one)", async () => {
    fx = new PodsFixture();
    fx.source.put({
      kind: "ConfigMap",
      metadata: { name: "kube-root-ca.crt", namespace: fx.namespace },
      data: { "ca.crt": "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n" },
    });
    const pod = fx.pod(
      {
        volumes: [
          {
            name: "kube-api-access-abcde",
            projected: {
              defaultMode: 0o644,
              sources: [
                { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
                { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
                {
                  downwardAPI: {
                    items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }],
                  },
                },
              ],
            },
          },
          {
            name: "info",
            downwardAPI: {
              items: [
                { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
                {
                  path: "mem",
                  resourceFieldRef: { containerName: "app", resource: "limits.memory", divisor: "1Mi" },
                },
              ],
            },
          },
        ],
        containers: [
          {
            name: "app",
            image: fx.image,
            command: ["sleep", "600"],
            resources: { limits: { memory: "64Mi" } },
            volumeMounts: [
              { name: "kube-api-access-abcde", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
              { name: "info", mountPath: "/etc/podinfo" },
            ],
          },
        ],
      },
      { labels: { tier: "edge", app: "x" } },
    );
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    await running(uid);
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    expect(await execOut(uid, "app", ["cat", `${sa}/namespace`])).toBe(fx.namespace);
    expect(await execOut(uid, "app", ["cat", `${sa}/ca.crt`])).toContain("BEGIN CERTIFICATE");
    await expect(execOut(uid, "app", ["test", "-e", `${sa}/token`])).rejects.toThrow(/exited 1/);
    expect(await execOut(uid, "app", ["cat", "/etc/podinfo/labels"])).toBe('app="x"\ntier="edge"');
    expect(await execOut(uid, "app", ["cat", "/etc/podinfo/mem"])).toBe("64");
    expect(fx.reporter.eventsOf(uid, "FailedMount")[0]?.message).toMatch(/no service account token/);
  });

  it("waits for an unbound claim, then mounts the bound node-local volume", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "db" } }],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sh", "-c", "echo stored > /data/f; sleep 600"],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.put({
      kind: "PersistentVolumeClaim",
      metadata: { name: "db", namespace: fx.namespace },
      spec: {},
      status: { phase: "Pending" },
    });
    fx.source.setPod(pod);
    await fx.manager().start();
    await vi.waitFor(() => {
      expect(fx.reporter.eventsOf(uid, "FailedMount")[0]?.message).toMatch(
        /PersistentVolumeClaim "db" is not bound/,
      );
    }, WAIT);
    expect(fx.reporter.latest(uid)?.phase).toBe("Pending");
    fx.source.put({
      kind: "PersistentVolume",
      metadata: { name: "pv-db" },
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-a"] }] },
            ],
          },
        },
      },
    });
    fx.source.put({
      kind: "PersistentVolumeClaim",
      metadata: { name: "db", namespace: fx.namespace },
      spec: { volumeName: "pv-db" },
      status: { phase: "Bound" },
    });
    await running(uid);
    const dir = join(fx.dataDir, "storage", `pv-db_${fx.namespace}_db`);
    await vi.waitFor(() => expect(existsSync(join(dir, "f"))).toBe(true), WAIT);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
  });

  it("loads an airgap tarball dropped into DATA_DIR/images and starts the pod waiting for it", async () => {
    fx = new PodsFixture();
    const tag = `edgekube/airgap-${randomUUID().slice(0, 8)}:v1`;
    const images = join(fx.dataDir, "images");
    mkdirSync(images, { recursive: true });
    execFileSync("docker", ["tag", fx.image, tag]);
    try {
      const tmp = join(fx.tempDir(), "img.tar");
      execFileSync("docker", ["save", "-o", tmp, tag]);
      execFileSync("docker", ["rmi", tag], { stdio: "ignore" });
      const pod = fx.pod({
        containers: [{ name: "app", image: tag, imagePullPolicy: "Never", command: ["sleep", "600"] }],
      });
      const uid = pod.metadata.uid!;
      fx.source.setPod(pod);
      await fx.manager({ airgapRescanMs: 500 }).start();
      await vi.waitFor(() => {
        expect(fx.reporter.latest(uid)?.containerStatuses?.[0]?.state?.waiting?.reason).toBe(
          "ErrImageNeverPull",
        );
      }, WAIT);
      // appears later, as a copy would: fs.watch or the rescan picks it up
      execFileSync("cp", [tmp, join(images, "img.tar")]);
      const s = await running(uid);
      expect(s.containerStatuses[0].image).toBe(tag);
    } finally {
      // the pod's containers reference the image: cleanup removes them first, then the tag
      await fx.cleanup();
      execFileSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
    }
  });
});
