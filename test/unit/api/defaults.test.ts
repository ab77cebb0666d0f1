import { describe, expect, it } from "vitest";
import { defaultPullPolicy, setDefaults } from "../../../src/api/defaults/index.js";
import type { KubeObject } from "../../../src/api/object.js";

const defaulted = (group: string, kind: string, obj: KubeObject): KubeObject => {
  setDefaults(group, kind, obj);
  return obj;
};

describe("Pod defaults", () => {
  it("matches what a real apiserver returns for a minimal pod", () => {
    const pod = defaulted("", "Pod", {
      metadata: { name: "p", namespace: "default" },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox",
            ports: [{ containerPort: 80 }],
            resources: { limits: { cpu: "1" } },
          },
        ],
        volumes: [{ name: "cfg", configMap: { name: "x" } }, { name: "scratch" }],
      },
    });
    expect(pod.spec).toEqual({
      containers: [
        {
          name: "c",
          image: "busybox",
          imagePullPolicy: "Always",
          ports: [{ containerPort: 80, protocol: "TCP" }],
          resources: { limits: { cpu: "1" }, requests: { cpu: "1" } },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
        },
      ],
      volumes: [
        { name: "cfg", configMap: { name: "x", defaultMode: 420 } },
        { name: "scratch", emptyDir: {} },
      ],
      dnsPolicy: "ClusterFirst",
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      securityContext: {},
      schedulerName: "default-scheduler",
      enableServiceLinks: true,
      serviceAccountName: "default",
      serviceAccount: "default",
      priority: 0,
      preemptionPolicy: "PreemptLowerPriority",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
    });
  });

  it("keeps given values and existing tolerations", () => {
    const pod = defaulted("", "Pod", {
      metadata: { name: "p" },
      spec: {
        restartPolicy: "Never",
        tolerations: [{ operator: "Exists" }],
        containers: [{ name: "c", image: "nginx:1.25", imagePullPolicy: "Never" }],
      },
    });
    const spec = pod.spec as Record<string, unknown>;
    expect(spec.restartPolicy).toBe("Never");
    expect(spec.tolerations).toEqual([{ operator: "Exists" }]);
    expect((spec.containers as Record<string, unknown>[])[0]?.imagePullPolicy).toBe("Never");
  });

  it.each([
    ["busybox", "Always"],
    ["busybox:latest", "Always"],
    ["registry:5000/busybox", "Always"],
    ["registry:5000/busybox:1.36", "IfNotPresent"],
    ["busybox@sha256:abcd", "IfNotPresent"],
  ])("pull policy for %s is %s", (image, want) => {
    expect(defaultPullPolicy(image)).toBe(want);
  });

  it("defaults probes", () => {
    const pod = defaulted("", "Pod", {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "x:1", livenessProbe: { httpGet: { port: 80 } } }] },
    });
    const c = (pod.spec as { containers: Record<string, unknown>[] }).containers[0];
    expect(c?.livenessProbe).toEqual({
      httpGet: { port: 80, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });
});

describe("workload defaults", () => {
  const template = () => ({
    metadata: { labels: { app: "a" } },
    spec: { containers: [{ name: "c", image: "x:1" }] },
  });

  it("Deployment", () => {
    const d = defaulted("apps", "Deployment", {
      metadata: { name: "d" },
      spec: { selector: { matchLabels: { app: "a" } }, template: template() },
    });
    const spec = d.spec as Record<string, unknown>;
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" },
    });
    expect(spec.revisionHistoryLimit).toBe(10);
    expect(spec.progressDeadlineSeconds).toBe(600);
    const t = spec.template as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(t.metadata.creationTimestamp).toBeNull();
    expect(t.spec.restartPolicy).toBe("Always");
    expect(t.spec.dnsPolicy).toBe("ClusterFirst");
    // pod-only admission defaults stay off templates
    expect(t.spec.serviceAccountName).toBeUndefined();
    expect(t.spec.tolerations).toBeUndefined();
  });

  it("Recreate deployments get no rollingUpdate", () => {
    const d = defaulted("apps", "Deployment", {
      metadata: { name: "d" },
      spec: { strategy: { type: "Recreate" }, template: template() },
    });
    expect((d.spec as Record<string, unknown>).strategy).toEqual({ type: "Recreate" });
  });

  it("DaemonSet and StatefulSet", () => {
    const ds = defaulted("apps", "DaemonSet", { metadata: { name: "d" }, spec: { template: template() } });
    expect((ds.spec as Record<string, unknown>).updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    const sts = defaulted("apps", "StatefulSet", {
      metadata: { name: "s" },
      spec: {
        template: template(),
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }],
      },
    });
    const s = sts.spec as Record<string, unknown>;
    expect(s.replicas).toBe(1);
    expect(s.podManagementPolicy).toBe("OrderedReady");
    expect(s.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    expect(s.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(s.volumeClaimTemplates).toEqual([
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data", creationTimestamp: null },
        spec: { accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem" },
        status: { phase: "Pending" },
      },
    ]);
  });

  it("Job keeps restartPolicy, takes template labels and generates a selector once it has a uid", () => {
    const job = defaulted("batch", "Job", {
      metadata: { name: "j", uid: "u-1" },
      spec: {
        template: { metadata: { labels: { app: "a" } }, spec: { restartPolicy: "Never", containers: [] } },
      },
    });
    const spec = job.spec as Record<string, unknown>;
    expect(spec.completions).toBe(1);
    expect(spec.parallelism).toBe(1);
    expect(spec.backoffLimit).toBe(6);
    expect(spec.completionMode).toBe("NonIndexed");
    expect(spec.suspend).toBe(false);
    expect(spec.manualSelector).toBeUndefined();
    expect(spec.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": "u-1" } });
    expect(job.metadata.labels).toEqual({ app: "a" });
    const t = spec.template as {
      metadata: { labels: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(t.metadata.labels["batch.kubernetes.io/job-name"]).toBe("j");
    expect(t.metadata.labels["controller-uid"]).toBe("u-1");
    expect(t.spec.restartPolicy).toBe("Never");
    const noRp = defaulted("batch", "Job", {
      metadata: { name: "k" },
      spec: { parallelism: 3, template: { spec: {} } },
    });
    expect((noRp.spec as Record<string, unknown>).completions).toBeUndefined();
    expect(
      (noRp.spec as { template: { spec: Record<string, unknown> } }).template.spec.restartPolicy,
    ).toBeUndefined();
  });

  it("CronJob", () => {
    const cj = defaulted("batch", "CronJob", {
      metadata: { name: "c" },
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: {} } } } },
    });
    const spec = cj.spec as Record<string, unknown>;
    expect([
      spec.concurrencyPolicy,
      spec.suspend,
      spec.successfulJobsHistoryLimit,
      spec.failedJobsHistoryLimit,
    ]).toEqual(["Allow", false, 3, 1]);
  });
});

describe("other kinds", () => {
  it("Service", () => {
    const svc = defaulted("", "Service", {
      metadata: { name: "s" },
      spec: { ports: [{ port: 80 }, { port: 53, protocol: "UDP", targetPort: "dns" }] },
    });
    expect(svc.spec).toEqual({
      ports: [
        { port: 80, protocol: "TCP", targetPort: 80 },
        { port: 53, protocol: "UDP", targetPort: "dns" },
      ],
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
    });
    const np = defaulted("", "Service", {
      metadata: { name: "s" },
      spec: { type: "NodePort", ports: [{ port: 80 }] },
    });
    expect((np.spec as Record<string, unknown>).externalTrafficPolicy).toBe("Cluster");
  });

  it("Secret folds stringData into data", () => {
    const s = defaulted("", "Secret", { metadata: { name: "s" }, stringData: { user: "admin" } });
    expect(s).toEqual({ metadata: { name: "s" }, type: "Opaque", data: { user: "YWRtaW4=" } });
  });

  it("Namespace, PVC, PV, StorageClass, EndpointSlice, RoleBinding", () => {
    expect(defaulted("", "Namespace", { metadata: { name: "n" } })).toMatchObject({
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
    expect(defaulted("", "PersistentVolumeClaim", { metadata: { name: "c" }, spec: {} }).spec).toEqual({
      volumeMode: "Filesystem",
    });
    expect(defaulted("", "PersistentVolume", { metadata: { name: "v" }, spec: {} }).spec).toEqual({
      persistentVolumeReclaimPolicy: "Retain",
      volumeMode: "Filesystem",
    });
    expect(
      defaulted("storage.k8s.io", "StorageClass", { metadata: { name: "sc" }, provisioner: "p" }),
    ).toMatchObject({
      reclaimPolicy: "Delete",
      volumeBindingMode: "Immediate",
    });
    expect(
      defaulted("discovery.k8s.io", "EndpointSlice", { metadata: { name: "e" }, ports: [{ port: 80 }] })
        .ports,
    ).toEqual([{ port: 80, name: "", protocol: "TCP" }]);
    const rb = defaulted("rbac.authorization.k8s.io", "RoleBinding", {
      metadata: { name: "rb" },
      roleRef: { kind: "Role", name: "r" },
      subjects: [{ kind: "User", name: "u" }],
    });
    expect(rb.roleRef).toEqual({ kind: "Role", name: "r", apiGroup: "rbac.authorization.k8s.io" });
  });

  it("leaves unknown kinds alone", () => {
    const o: KubeObject = { metadata: { name: "x" }, spec: {} };
    setDefaults("example.com", "Widget", o);
    expect(o).toEqual({ metadata: { name: "x" }, spec: {} });
  });
});
