import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LABEL_POD_UID } from "../../src/edge-agent/runtime/index.js";
import { type AnyStatus, PodsFixture } from "../helpers/pods.js";
import { hasDocker, need } from "../helpers/prereq.js";
import { readAll } from "../helpers/runtime.js";

const WAIT = { timeout: 45_000, interval: 100 };
const SH = ["sh", "-c"];

describe.skipIf(!need(hasDocker()))("PodManager on dockerd: lifecycle", () => {
  let fx: PodsFixture;
  afterEach(async () => {
    await fx.cleanup();
  });

  async function statusWhere(uid: string, pred: (s: AnyStatus) => boolean, what: string): Promise<AnyStatus> {
    return vi.waitFor(() => {
      const s = fx.reporter.latest(uid);
      if (!s || !pred(s))
        throw new Error(`pod ${uid}: waiting for ${what}; last status ${JSON.stringify(s)}`);
      return s;
    }, WAIT);
  }

  async function execOut(uid: string, container: string, cmd: string[]): Promise<string> {
    const s = await fx.runtime().exec(uid, container, cmd);
    const [out] = await Promise.all([readAll(s.stdout), readAll(s.stderr)]);
    await s.exitCode;
    return out.trim();
  }

  it("runs init containers then the app and reports upstream-shaped status, env and events", async () => {
    fx = new PodsFixture();
    fx.source.put({
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: fx.namespace },
      data: { greeting: "hi" },
    });
    const pod = fx.pod(
      {
        initContainers: [{ name: "prep", image: fx.image, command: SH, args: ["exit 0"] }],
        containers: [
          {
            name: "app",
            image: fx.image,
            command: ["sleep", "600"],
            env: [
              { name: "GREETING", valueFrom: { configMapKeyRef: { name: "cfg", key: "greeting" } } },
              { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "MSG", value: "$(GREETING) from $(POD)" },
              { name: "OPT", valueFrom: { secretKeyRef: { name: "absent", key: "k", optional: true } } },
            ],
          },
        ],
      },
      { labels: { app: "web" } },
    );
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    const s = await statusWhere(
      uid,
      (x) => x.phase === "Running" && x.containerStatuses?.[0]?.ready,
      "Running",
    );
    expect(s.conditions.map((c: AnyStatus) => [c.type, c.status])).toEqual([
      ["Initialized", "True"],
      ["Ready", "True"],
      ["ContainersReady", "True"],
      ["PodScheduled", "True"],
    ]);
    expect(s.initContainerStatuses[0]).toMatchObject({
      name: "prep",
      ready: true,
      state: { terminated: { exitCode: 0, reason: "Completed" } },
    });
    const app = s.containerStatuses[0];
    expect(app).toMatchObject({ name: "app", ready: true, started: true, restartCount: 0, image: fx.image });
    expect(app.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(app.imageID).toMatch(/^docker:\/\/sha256:/);
    expect(app.state.running.startedAt).toMatch(/Z$/);
    expect(s).toMatchObject({ hostIP: "127.0.0.1", qosClass: "BestEffort" });
    expect(s.startTime).toMatch(/Z$/);
    const env = await execOut(uid, "app", ["env"]);
    expect(env).toContain("MSG=hi from " + pod.metadata.name);
    expect(env).not.toContain("OPT=");
    const reasons = fx.reporter.eventsOf(uid).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Pulled", "Created", "Started"]));
  });

  it("shows CrashLoopBackOff with a growing back-off and keeps lastState", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({ containers: [{ name: "crash", image: fx.image, command: SH, args: ["exit 3"] }] });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    const delayOf = (x: AnyStatus): number | undefined => {
      const w = x.containerStatuses?.[0]?.state?.waiting;
      const m =
        w?.reason === "CrashLoopBackOff" ? /^back-off (\d+)ms |^back-off ([\d.]+)s /.exec(w.message) : null;
      if (!m) return undefined;
      return m[1] !== undefined ? Number(m[1]) : Number(m[2]) * 1000;
    };
    const first = await statusWhere(uid, (x) => delayOf(x) !== undefined, "CrashLoopBackOff");
    const ref = `${pod.metadata.name}_${fx.namespace}(${uid})`;
    expect(first.containerStatuses[0].state.waiting.message).toMatch(
      new RegExp(`^back-off \\S+ restarting failed container=crash pod=${ref.replace(/[()]/g, "\\$&")}$`),
    );
    expect(first.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(first.phase).toBe("Running");
    const d1 = delayOf(first)!;
    expect([400, 800, 1600, 3200, 5000]).toContain(d1);
    // the delay doubles: a later back-off is longer than the first one seen
    const later = await statusWhere(uid, (x) => (delayOf(x) ?? 0) > d1, "a doubled back-off");
    expect([800, 1600, 3200, 5000]).toContain(delayOf(later));
    expect(later.containerStatuses[0].restartCount).toBeGreaterThan(first.containerStatuses[0].restartCount);
    expect(fx.reporter.eventsOf(uid, "BackOff")[0]?.message).toBe(
      `Back-off restarting failed container crash in pod ${ref}`,
    );
  });

  it("restarts a container whose liveness probe fails", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sleep", "600"],
          livenessProbe: { exec: { command: ["cat", "/tmp/alive"] }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    const s = await statusWhere(uid, (x) => x.containerStatuses?.[0]?.restartCount >= 1, "a restart");
    expect(s.containerStatuses[0].lastState.terminated).toBeDefined();
    expect(fx.reporter.eventsOf(uid, "Unhealthy")[0]?.message).toMatch(/^Liveness probe failed: /);
    expect(fx.reporter.eventsOf(uid, "Killing")[0]?.message).toBe(
      "Container app failed liveness probe, will be restarted",
    );
  });

  it("gates Ready on the readiness probe", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sleep", "600"],
          readinessProbe: { exec: { command: ["test", "-f", "/tmp/ready"] }, periodSeconds: 1 },
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    const ready = (x: AnyStatus) => x.conditions?.find((c: AnyStatus) => c.type === "Ready")?.status;
    const notReady = await statusWhere(uid, (x) => x.phase === "Running", "Running");
    expect(ready(notReady)).toBe("False");
    expect(notReady.conditions.find((c: AnyStatus) => c.type === "Ready")).toMatchObject({
      reason: "ContainersNotReady",
      message: "containers with unready status: [app]",
    });
    await execOut(uid, "app", ["touch", "/tmp/ready"]);
    await statusWhere(uid, (x) => ready(x) === "True" && x.containerStatuses[0].ready, "Ready");
    await execOut(uid, "app", ["rm", "/tmp/ready"]);
    await statusWhere(uid, (x) => ready(x) === "False", "not Ready again");
  });

  it("runs httpGet and tcpSocket probes inside the sandbox's network namespace when the pod has no IP", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({
      containers: [
        {
          name: "web",
          image: fx.image,
          command: [
            "sh",
            "-c",
            "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www",
          ],
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { httpGet: { path: "/index.html", port: "http" }, periodSeconds: 1 },
          livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
        },
        {
          name: "closed",
          image: fx.image,
          command: ["sleep", "600"],
          readinessProbe: { tcpSocket: { port: 9 }, periodSeconds: 1 },
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    const s = await statusWhere(uid, (x) => x.containerStatuses?.[0]?.ready === true, "web ready");
    expect(s.containerStatuses[1].ready).toBe(false);
    expect(s.conditions.find((c: AnyStatus) => c.type === "Ready").message).toBe(
      "containers with unready status: [closed]",
    );
    await vi.waitFor(
      () => expect(fx.reporter.eventsOf(uid, "Unhealthy")[0]?.message).toMatch(/^Readiness probe failed/),
      WAIT,
    );
    expect(fx.reporter.latest(uid)?.containerStatuses[0].restartCount).toBe(0);
  });

  it("stops a deleted pod gracefully (TERM trap runs), then removes it", async () => {
    fx = new PodsFixture();
    const host = fx.tempDir();
    const pod = fx.pod({
      volumes: [{ name: "out", hostPath: { path: host, type: "Directory" } }],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: SH,
          args: ["trap 'echo term > /out/marker; exit 0' TERM; while true; do sleep 0.1; done"],
          volumeMounts: [{ name: "out", mountPath: "/out" }],
        },
      ],
    });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    await fx.manager().start();
    await statusWhere(uid, (x) => x.phase === "Running", "Running");
    fx.source.setPod({
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 10,
      },
    });
    const done = await statusWhere(
      uid,
      (x) => x.containerStatuses?.[0]?.state?.terminated !== undefined,
      "terminated container",
    );
    expect(done.containerStatuses[0].state.terminated.exitCode).toBe(0);
    expect(readFileSync(join(host, "marker"), "utf8").trim()).toBe("term");
    expect(fx.reporter.eventsOf(uid, "Killing")[0]?.message).toBe("Stopping container app");
    fx.source.deletePod(uid);
    await vi.waitFor(async () => {
      const left = await fx.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_POD_UID}=${uid}`] },
      });
      expect(left).toEqual([]);
      expect(existsSync(join(fx.dataDir, "pods", uid))).toBe(false);
    }, WAIT);
  });

  it("adopts running pods after an agent restart without restarting them", async () => {
    fx = new PodsFixture();
    const pod = fx.pod({ containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }] });
    const uid = pod.metadata.uid!;
    fx.source.setPod(pod);
    const first = fx.manager();
    await first.start();
    const s1 = await statusWhere(uid, (x) => x.phase === "Running", "Running");
    const id = s1.containerStatuses[0].containerID.slice("docker://".length);
    const byUid = { all: true, filters: { label: [`${LABEL_POD_UID}=${uid}`] } };
    const idsBefore = (await fx.docker.listContainers(byUid)).map((c) => c.Id).sort();
    const before = await fx.docker.getContainer(id).inspect();
    first.stop();
    const reportsBefore = fx.reporter.statuses.get(uid)?.length ?? 0;
    // a new agent process: new runtime and manager instances, same Docker
    const second = fx.manager();
    await second.start();
    // the new manager knows nothing yet, so its first sync reports; wait for it and a resync more
    await vi.waitFor(
      () => expect(fx.reporter.statuses.get(uid)?.length ?? 0).toBeGreaterThan(reportsBefore),
      WAIT,
    );
    await second.idle();
    const after = await fx.docker.getContainer(id).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect((await fx.docker.listContainers(byUid)).map((c) => c.Id).sort()).toEqual(idsBefore);
    expect(idsBefore).toHaveLength(2);
    expect(fx.reporter.latest(uid)?.containerStatuses[0]).toMatchObject({
      containerID: `docker://${id}`,
      restartCount: 0,
      state: { running: { startedAt: s1.containerStatuses[0].state.running.startedAt } },
    });
  });

  it("removes orphans at start: pods in Docker that are no longer desired, and their directories", async () => {
    fx = new PodsFixture();
    const keep = fx.pod({ containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }] });
    const gone = fx.pod({
      volumes: [{ name: "scratch", emptyDir: {} }],
      containers: [
        {
          name: "app",
          image: fx.image,
          command: ["sleep", "600"],
          volumeMounts: [{ name: "scratch", mountPath: "/s" }],
        },
      ],
    });
    fx.source.setPod(keep);
    fx.source.setPod(gone);
    const first = fx.manager();
    await first.start();
    await statusWhere(gone.metadata.uid!, (x) => x.phase === "Running", "Running");
    await statusWhere(keep.metadata.uid!, (x) => x.phase === "Running", "Running");
    const keepId = fx.reporter.latest(keep.metadata.uid!)?.containerStatuses[0].containerID;
    first.stop();
    // deleted from the hub while the agent was down
    fx.source.deletePod(gone.metadata.uid!);
    await fx.manager().start();
    const byUid = (uid: string) => ({ all: true, filters: { label: [`${LABEL_POD_UID}=${uid}`] } });
    expect(await fx.docker.listContainers(byUid(gone.metadata.uid!))).toEqual([]);
    expect(existsSync(join(fx.dataDir, "pods", gone.metadata.uid!))).toBe(false);
    const kept = await fx.docker.listContainers(byUid(keep.metadata.uid!));
    expect(kept.map((c) => `docker://${c.Id}`)).toContain(keepId);
  });

  it("reports ErrImagePull then ImagePullBackOff for a missing image, and keeps serving other pods", async () => {
    fx = new PodsFixture();
    // a loopback registry that refuses connections: no traffic leaves the machine
    const missing = fx.pod({
      containers: [
        { name: "app", image: "127.0.0.1:9/edgekube/missing:v1", imagePullPolicy: "IfNotPresent" },
      ],
    });
    const fine = fx.pod({ containers: [{ name: "app", image: fx.image, command: ["sleep", "600"] }] });
    fx.source.setPod(missing);
    fx.source.setPod(fine);
    await fx.manager().start();
    const uid = missing.metadata.uid!;
    const pull = await statusWhere(
      uid,
      (x) => x.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImagePull",
      "ErrImagePull",
    );
    expect(pull.phase).toBe("Pending");
    expect(pull.containerStatuses[0].state.waiting.message).toMatch(/127\.0\.0\.1:9\/edgekube\/missing:v1/);
    const backoff = await statusWhere(
      uid,
      (x) => x.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff",
      "ImagePullBackOff",
    );
    expect(backoff.containerStatuses[0].state.waiting.message).toBe(
      'Back-off pulling image "127.0.0.1:9/edgekube/missing:v1"',
    );
    await statusWhere(fine.metadata.uid!, (x) => x.phase === "Running", "the other pod Running");
    expect(fx.reporter.eventsOf(uid, "Pulling")[0]?.message).toBe(
      'Pulling image "127.0.0.1:9/edgekube/missing:v1"',
    );
  });
});
