/**
 * Service account tokens end to end on real parts: a real hub (SQLite, aedes, HTTPS), a real
 * edge agent joined to it (its MQTT link, SQLite cache and outbox), the production PodSource
 * with the token manager, and a pod manager on the local dockerd. A busybox pod created with
 * kubectl gets the kube-api-access volume by admission; its container reads token, ca.crt and
 * namespace; the token, used with that CA over HTTPS, authenticates at the hub as
 * system:serviceaccount:<ns>:default, and stops authenticating once the pod is deleted.
 */
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { agentPodSource } from "../../src/edge-agent/node-workloads.js";
import { PodManager } from "../../src/edge-agent/pods/index.js";
import { ServiceAccountTokenManager } from "../../src/edge-agent/tokens/index.js";
import { ensureBusyboxImage } from "../helpers/images.js";
import { hasDocker, hasKubectl, need } from "../helpers/prereq.js";
import { readAll } from "../helpers/runtime.js";
import { NamespacedRuntime, StorageRig } from "../helpers/storage-rig.js";

const WAIT = { timeout: 60_000, interval: 200 };
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

describe.skipIf(!need(hasDocker(), hasKubectl()))("service account token volume on a real agent", () => {
  const rig = new StorageRig();
  let runtime: NamespacedRuntime;
  let tokens: ServiceAccountTokenManager;

  beforeAll(async () => {
    await rig.start();
    const image = ensureBusyboxImage();
    runtime = new NamespacedRuntime(rig.docker, image, rig.ns);
    const agent = rig.agent;
    tokens = new ServiceAccountTokenManager({
      link: agent.channel,
      file: join(rig.agentDir, "sa-tokens.json"),
      livePods: () => agent.cache.pods().map((p) => p.metadata?.uid ?? ""),
    });
    await tokens.start();
    const manager = new PodManager({
      runtime,
      source: agentPodSource(agent, tokens),
      reporter: {
        reportPodStatus: (pod, status) =>
          agent.reportPodStatus(
            pod.metadata.namespace ?? "",
            pod.metadata.name ?? "",
            status,
            Number(pod.metadata.resourceVersion) || undefined,
          ),
        recordEvent: (pod, type, reason, message) =>
          agent.recordEvent({
            apiVersion: "v1",
            kind: "Event",
            metadata: { uid: randomUUID(), namespace: pod.metadata.namespace ?? "" },
            involvedObject: { kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name },
            type,
            reason,
            message,
          }),
      },
      volumeHost: agent.storage,
      nodeName: rig.node,
      hostIP: "127.0.0.1",
      resyncMs: 500,
      airgapDir: false,
      crashBackoff: { baseMs: 400, maxMs: 5000 },
    });
    rig.manager = manager; // stopped by rig.cleanup()
    await manager.start();
  }, 120_000);

  afterAll(async () => {
    tokens?.stop();
    await rig.cleanup();
  }, 60_000);

  async function execOut(uid: string, cmd: string[]): Promise<string> {
    const s = await runtime.exec(uid, "app", cmd);
    const [out, err] = await Promise.all([readAll(s.stdout), readAll(s.stderr)]);
    if ((await s.exitCode) !== 0) throw new Error(`${cmd.join(" ")} failed: ${err}`);
    return out;
  }

  /** an HTTPS call to the hub as a pod would make it: bearer token, CA from the volume */
  function callHub(
    method: string,
    path: string,
    token: string,
    ca: string,
    body?: unknown,
  ): Promise<{ status: number; body: string }> {
    const url = new URL(path, rig.hub.hub.url);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            ...(body ? { "content-type": "application/json" } : {}),
          },
        },
        (res) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            data += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      req.on("error", reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  }

  it("projects token, ca.crt and namespace; the token authenticates as the pod's service account", async () => {
    const image = ensureBusyboxImage();
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "reader", namespace: rig.ns },
      spec: {
        nodeName: rig.node,
        containers: [{ name: "app", image, imagePullPolicy: "Never", command: ["sleep", "3600"] }],
      },
    };
    await rig.hub.kubectl(["apply", "-f", "-"], { input: JSON.stringify(manifest) });
    const uid = (
      await rig.hub.kubectl(["get", "pod", "reader", "-n", rig.ns, "-o", "jsonpath={.metadata.uid}"])
    ).stdout;
    await vi.waitFor(async () => {
      const phase = await rig.hub.kubectl([
        "get",
        "pod",
        "reader",
        "-n",
        rig.ns,
        "-o",
        "jsonpath={.status.phase}",
      ]);
      expect(phase.stdout).toBe("Running");
    }, WAIT);

    const token = await execOut(uid, ["cat", `${SA_DIR}/token`]);
    const ca = await execOut(uid, ["cat", `${SA_DIR}/ca.crt`]);
    expect(await execOut(uid, ["cat", `${SA_DIR}/namespace`])).toBe(rig.ns);
    expect(token.split(".")).toHaveLength(3);
    const rootCA = await rig.hub.kubectl([
      "get",
      "configmap",
      "kube-root-ca.crt",
      "-n",
      rig.ns,
      "-o",
      "jsonpath={.data.ca\\.crt}",
    ]);
    expect(ca.trim()).toBe(rootCA.stdout.trim());
    // the mount is read-only, as upstream's
    await expect(execOut(uid, ["sh", "-c", `echo x > ${SA_DIR}/token`])).rejects.toThrow(/failed/);

    // the pod's own call: authenticated (not 401); authorization decides (200 or 403)
    const list = await callHub("GET", `/api/v1/namespaces/${rig.ns}/pods`, token, ca);
    expect([200, 403]).toContain(list.status);
    const who = await callHub("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", token, ca, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });
    expect(who.status).toBe(201);
    const user = (JSON.parse(who.body) as { status: { userInfo: { username: string; groups: string[] } } })
      .status.userInfo;
    expect(user.username).toBe(`system:serviceaccount:${rig.ns}:default`);
    expect(user.groups).toContain(`system:serviceaccounts:${rig.ns}`);

    // a deleted pod's token is refused (bound object check)
    await rig.hub.kubectl(["delete", "pod", "reader", "-n", rig.ns, "--grace-period=0", "--force"]);
    await vi.waitFor(async () => {
      expect((await callHub("GET", `/api/v1/namespaces/${rig.ns}/pods`, token, ca)).status).toBe(401);
    }, WAIT);
  });

  it("fails the mount with the hub's reason while the service account is missing, then recovers", async () => {
    const image = ensureBusyboxImage();
    await rig.hub.kubectl(["create", "serviceaccount", "temp", "-n", rig.ns]);
    // created while the ServiceAccount exists, bound only after it is gone (no scheduler takes it)
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "late", namespace: rig.ns },
      spec: {
        schedulerName: "nobody",
        serviceAccountName: "temp",
        containers: [{ name: "app", image, imagePullPolicy: "Never", command: ["sleep", "3600"] }],
      },
    };
    await rig.hub.kubectl(["apply", "-f", "-"], { input: JSON.stringify(manifest) });
    await rig.hub.kubectl(["delete", "serviceaccount", "temp", "-n", rig.ns]);
    const ca = (
      await rig.hub.kubectl([
        "get",
        "configmap",
        "kube-root-ca.crt",
        "-n",
        rig.ns,
        "-o",
        "jsonpath={.data.ca\\.crt}",
      ])
    ).stdout;
    const bound = await callHub(
      "POST",
      `/api/v1/namespaces/${rig.ns}/pods/late/binding`,
      rig.hub.hub.adminToken,
      ca,
      {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: "late", namespace: rig.ns },
        target: { apiVersion: "v1", kind: "Node", name: rig.node },
      },
    );
    expect(bound.status).toBe(201);
    await vi.waitFor(async () => {
      const ev = await rig.hub.kubectl([
        "get",
        "events",
        "-n",
        rig.ns,
        "--field-selector",
        "involvedObject.name=late",
        "-o",
        "jsonpath={.items[*].message}",
      ]);
      expect(ev.stdout).toContain(
        'failed to fetch token: the hub refused the service account token: serviceaccounts "temp" not found',
      );
    }, WAIT);
    // the ServiceAccount is back: the agent asks again (after its back-off) and the pod starts
    await rig.hub.kubectl(["create", "serviceaccount", "temp", "-n", rig.ns]);
    await vi.waitFor(async () => {
      const phase = await rig.hub.kubectl([
        "get",
        "pod",
        "late",
        "-n",
        rig.ns,
        "-o",
        "jsonpath={.status.phase}",
      ]);
      expect(phase.stdout).toBe("Running");
    }, WAIT);
  });
});
