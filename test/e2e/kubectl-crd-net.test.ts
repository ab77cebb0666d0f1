/**
 * Real kubectl 1.32 against a hub with simulated nodes: CRDs (printer columns, schema errors,
 * explain, scale, delete removes instances), Services → Endpoints/EndpointSlices (ready and
 * unready pods), and PVC + pod → a provisioned, bound local-path PV.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { refs } from "../../src/client/client.js";
import { listPrefix, storageRef } from "../../src/hub/apiserver/keys.js";
import { runKubectl, startHub, type TestHub } from "../helpers/hub.js";
import { KubeletSim } from "../helpers/kubelet-sim.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.example.com}
spec:
  group: e2e.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: WidgetSpec is what a widget should be.
            required: [color]
            properties:
              color: {type: string, enum: [red, blue], description: The colour of the widget.}
              replicas: {type: integer, minimum: 0, maximum: 5, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;

const widget = (ns: string, name: string, spec: string) =>
  `apiVersion: e2e.example.com/v1\nkind: Widget\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n`;

describe.skipIf(!need(hasKubectl()))("kubectl: CRDs, endpoints and volumes", () => {
  let t: TestHub;
  let sim: KubeletSim;
  const homes: string[] = [];
  /** kubectl with an empty discovery/OpenAPI cache: served resources change with CRDs */
  const fresh = (args: string[], opts: { input?: string; allowFail?: boolean } = {}) => {
    const home = mkdtempSync(join(tmpdir(), "ek-kubectl-"));
    homes.push(home);
    return runKubectl(t.kubeconfig, home, args, opts);
  };

  beforeAll(async () => {
    t = await startHub();
    sim = new KubeletSim(t.hub.client!);
    await sim.addNode({ name: "edge-1" });
    await sim.start();
  });
  afterAll(async () => {
    sim?.stop();
    await t?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it("serves a CRD: printer columns, defaults, schema errors, explain, scale, delete removes instances", async () => {
    await t.kubectl(["create", "ns", "crd1"]);
    await fresh(["apply", "-f", "-"], { input: CRD });
    await fresh(["wait", "--for=condition=Established", "crd/widgets.e2e.example.com", "--timeout=30s"]);
    await fresh(["apply", "-f", "-"], { input: widget("crd1", "w1", "{color: red}") });
    const table = await fresh(["get", "widgets", "-n", "crd1"]);
    expect(table.stdout).toMatch(/NAME\s+COLOR\s+REPLICAS/);
    expect(table.stdout).toMatch(/w1\s+red\s+1/);
    const bad = await fresh(["create", "-f", "-"], {
      input: widget("crd1", "w2", "{color: pink, replicas: 9}"),
      allowFail: true,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.color: Unsupported value: "pink": supported values: "red", "blue"');
    expect(bad.stderr).toContain(
      "spec.replicas: Invalid value: 9: spec.replicas in body should be less than or equal to 5",
    );
    const explain = await fresh(["explain", "widget.spec"]);
    expect(explain.stdout).toContain("KIND:       Widget");
    expect(explain.stdout).toContain("The colour of the widget.");
    await fresh(["scale", "widget/w1", "-n", "crd1", "--replicas=3"]);
    expect((await fresh(["get", "wd", "w1", "-n", "crd1", "-o", "jsonpath={.spec.replicas}"])).stdout).toBe(
      "3",
    );
    const info = t.hub.registry!.get("e2e.example.com", "v1", "widgets")!;
    const rows = () => t.hub.store!.backend.list(listPrefix(storageRef(info)));
    expect((await rows()).items).toHaveLength(1);
    await fresh(["delete", "crd", "widgets.e2e.example.com", "--timeout=30s"]);
    expect(t.hub.registry!.get("e2e.example.com", "v1", "widgets")).toBeUndefined();
    expect((await rows()).items).toHaveLength(0);
    const gone = await fresh(["get", "widgets", "-n", "crd1"], { allowFail: true });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('the server doesn\'t have a resource type "widgets"');
  });

  it("lists ready pod IPs in endpoints and slices; an unready pod moves to notReadyAddresses", async () => {
    const ns = "net1";
    await t.kubectl(["create", "ns", ns]);
    const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: web}}
spec:
  nodeName: edge-1
  containers: [{name: c, image: busybox, ports: [{name: http, containerPort: 8080}]}]
`;
    const svc = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;
    await t.kubectl(["apply", "-f", "-"], { input: `${svc}---\n${pod("p1")}---\n${pod("p2")}` });
    await t.kubectl(["wait", "-n", ns, "--for=condition=Ready", "pod/p1", "pod/p2", "--timeout=30s"]);
    const ips = (
      await t.kubectl(["get", "pods", "-n", ns, "-o", "jsonpath={.items[*].status.podIP}"])
    ).stdout.split(" ");
    await vi.waitFor(
      async () => {
        const out = (await t.kubectl(["get", "endpoints,endpointslices", "-n", ns])).stdout;
        for (const ip of ips) expect(out).toContain(`${ip}:8080`);
        expect(out).toMatch(/endpointslice\.discovery\.k8s\.io\/web-\w{5}\s+IPv4\s+8080\s+/);
      },
      { timeout: 20_000, interval: 200 },
    );
    // the kubelet reports p1 unready
    await t.hub.client!.mutate(
      refs.pods,
      ns,
      "p1",
      (cur) => {
        const st = cur.status as { conditions: { type: string; status: string }[] };
        return {
          ...cur,
          status: {
            ...st,
            conditions: st.conditions.map((c) => (c.type === "Ready" ? { ...c, status: "False" } : c)),
          },
        };
      },
      { status: true },
    );
    const p1ip = (await t.kubectl(["get", "pod", "p1", "-n", ns, "-o", "jsonpath={.status.podIP}"])).stdout;
    await vi.waitFor(
      async () => {
        const nr = (
          await t.kubectl([
            "get",
            "endpoints",
            "web",
            "-n",
            ns,
            "-o",
            "jsonpath={.subsets[0].notReadyAddresses[*].ip}",
          ])
        ).stdout;
        expect(nr).toBe(p1ip);
        const ready = (
          await t.kubectl([
            "get",
            "endpointslices",
            "-n",
            ns,
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "jsonpath={.items[0].endpoints[?(@.conditions.ready==false)].addresses[0]}",
          ])
        ).stdout;
        expect(ready).toBe(p1ip);
      },
      { timeout: 20_000, interval: 200 },
    );
  });

  it("serves the kubernetes service pointing at the hub", async () => {
    const port = new URL(t.hub.url).port;
    await vi.waitFor(
      async () => {
        const out = (await t.kubectl(["get", "svc,endpoints", "kubernetes", "-n", "default"])).stdout;
        expect(out).toMatch(/service\/kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/);
        expect(out).toContain(`127.0.0.1:${port}`);
      },
      { timeout: 20_000, interval: 200 },
    );
  });

  it("provisions and binds a local-path PV once the consumer pod is on a node", async () => {
    const ns = "vol1";
    await t.kubectl(["create", "ns", ns]);
    await t.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${ns}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}
`,
    });
    expect(
      (await t.kubectl(["get", "pvc", "data", "-n", ns, "-o", "jsonpath={.spec.storageClassName}"])).stdout,
    ).toBe("local-path");
    await vi.waitFor(
      async () => {
        const ev = (await t.kubectl(["get", "events", "-n", ns, "-o", "jsonpath={.items[*].reason}"])).stdout;
        expect(ev).toContain("WaitForFirstConsumer");
      },
      { timeout: 20_000, interval: 200 },
    );
    expect((await t.kubectl(["get", "pv", "-o", "name"])).stdout.trim()).toBe("");
    await t.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Pod
metadata: {name: app, namespace: ${ns}}
spec:
  nodeName: edge-1
  containers: [{name: c, image: busybox}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`,
    });
    await vi.waitFor(
      async () => {
        const pvc = (await t.kubectl(["get", "pvc", "data", "-n", ns])).stdout;
        expect(pvc).toMatch(/data\s+Bound\s+pvc-[0-9a-f-]+\s+2Gi\s+RWO\s+local-path/);
      },
      { timeout: 20_000, interval: 200 },
    );
    const pv = (await t.kubectl(["get", "pv"])).stdout;
    expect(pv).toMatch(/pvc-[0-9a-f-]+\s+2Gi\s+RWO\s+Delete\s+Bound\s+vol1\/data\s+local-path/);
    const aff = (
      await t.kubectl([
        "get",
        "pv",
        "-o",
        "jsonpath={.items[0].spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}",
      ])
    ).stdout;
    expect(aff).toBe("edge-1");
    await t.kubectl(["delete", "pod", "app", "-n", ns, "--wait=true", "--timeout=30s"]);
    await t.kubectl(["delete", "pvc", "data", "-n", ns, "--timeout=30s"]);
    // the PV goes once its node's agent removed the directory (the local-path cleanup
    // finalizer); a simulated node has no agent, so it stays Released and marked for deletion
    await vi.waitFor(
      async () => {
        const o = JSON.parse((await t.kubectl(["get", "pv", "-o", "json"])).stdout).items[0];
        expect(o.status.phase).toBe("Released");
        expect(o.metadata.deletionTimestamp).toBeDefined();
        expect(o.metadata.finalizers).toContain("edgekube.io/local-path-cleanup");
      },
      { timeout: 20_000, interval: 200 },
    );
  });
});
