/**
 * ServiceAccount admission (upstream plugin/pkg/admission/serviceaccount): defaulting, the
 * kube-api-access projected volume and its mounts, automount opt-outs, existing mounts and
 * volumes, imagePullSecrets, and the Forbidden answer for a missing ServiceAccount.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import type { KubeObject } from "../../../../src/api/object.js";
import {
  ServiceAccountAdmission,
  TOKEN_MOUNT_PATH,
  tokenVolumeSource,
} from "../../../../src/hub/apiserver/admission/service-account.js";

type Json = Record<string, unknown>;

function pod(spec: Json, meta: Json = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns1", ...meta }, spec };
}

function admission(accounts: Record<string, Json>, log: string[] = []) {
  return new ServiceAccountAdmission({
    getServiceAccount: async (ns, name) => {
      log.push(`${ns}/${name}`);
      const sa = accounts[name];
      return sa
        ? ({
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name, namespace: ns },
            ...sa,
          } as KubeObject)
        : undefined;
    },
    sleep: async () => {},
  });
}

const spec = (p: KubeObject) => p.spec as { [k: string]: unknown; volumes?: Json[]; containers: Json[] };

describe("ServiceAccount admission", () => {
  it("defaults the service account and mounts the kube-api-access volume in every container", async () => {
    const p = pod({
      initContainers: [{ name: "init", image: "busybox" }],
      containers: [
        { name: "a", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] },
        { name: "b", image: "busybox" },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
    });
    await admission({ default: {} }).admit(p);
    const s = spec(p);
    expect(s.serviceAccountName).toBe("default");
    expect(s.serviceAccount).toBe("default");
    expect(s.volumes).toHaveLength(2);
    const vol = s.volumes?.[1] as Json;
    expect(vol.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    });
    const mount = { name: vol.name, readOnly: true, mountPath: TOKEN_MOUNT_PATH };
    for (const c of [...(s.initContainers as Json[]), ...s.containers]) {
      expect(c.volumeMounts).toContainEqual(mount);
    }
    expect(s.containers[0]?.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }, mount]);
  });

  it("respects automountServiceAccountToken: the pod's choice wins over the ServiceAccount's", async () => {
    const off = pod({ automountServiceAccountToken: false, containers: [{ name: "a", image: "x" }] });
    await admission({ default: {} }).admit(off);
    expect(spec(off).volumes).toBeUndefined();
    expect(spec(off).containers[0]?.volumeMounts).toBeUndefined();

    const saOff = pod({ serviceAccountName: "quiet", containers: [{ name: "a", image: "x" }] });
    await admission({ quiet: { automountServiceAccountToken: false } }).admit(saOff);
    expect(spec(saOff).volumes).toBeUndefined();

    const podOn = pod({
      serviceAccountName: "quiet",
      automountServiceAccountToken: true,
      containers: [{ name: "a", image: "x" }],
    });
    await admission({ quiet: { automountServiceAccountToken: false } }).admit(podOn);
    expect(spec(podOn).volumes).toHaveLength(1);
  });

  it("skips containers that already mount something at the token path, and adds no unused volume", async () => {
    const own = { name: "mine", mountPath: TOKEN_MOUNT_PATH };
    const p = pod({
      containers: [
        { name: "a", image: "x", volumeMounts: [own] },
        { name: "b", image: "x" },
      ],
      volumes: [{ name: "mine", secret: { secretName: "s" } }],
    });
    await admission({ default: {} }).admit(p);
    const s = spec(p);
    expect(s.containers[0]?.volumeMounts).toEqual([own]);
    expect((s.containers[1]?.volumeMounts as Json[] | undefined)?.[0]?.mountPath).toBe(TOKEN_MOUNT_PATH);
    expect(s.volumes).toHaveLength(2);

    const all = pod({ containers: [{ name: "a", image: "x", volumeMounts: [own] }], volumes: [] });
    await admission({ default: {} }).admit(all);
    expect(spec(all).volumes).toEqual([]);
  });

  it("reuses a kube-api-access volume the pod already has (a re-submitted pod)", async () => {
    const p = pod({
      containers: [{ name: "a", image: "x" }],
      volumes: [{ name: "kube-api-access-abcde", projected: tokenVolumeSource() }],
    });
    await admission({ default: {} }).admit(p);
    expect(spec(p).volumes).toHaveLength(1);
    expect((spec(p).containers[0]?.volumeMounts as Json[] | undefined)?.[0]?.name).toBe(
      "kube-api-access-abcde",
    );
  });

  it("copies imagePullSecrets from the ServiceAccount only when the pod names none", async () => {
    const p = pod({ serviceAccountName: "puller", containers: [{ name: "a", image: "x" }] });
    await admission({ puller: { imagePullSecrets: [{ name: "regcred" }] } }).admit(p);
    expect(spec(p).imagePullSecrets).toEqual([{ name: "regcred" }]);
    const own = pod({
      serviceAccountName: "puller",
      imagePullSecrets: [{ name: "mine" }],
      containers: [{ name: "a", image: "x" }],
    });
    await admission({ puller: { imagePullSecrets: [{ name: "regcred" }] } }).admit(own);
    expect(spec(own).imagePullSecrets).toEqual([{ name: "mine" }]);
  });

  it("refuses a pod whose ServiceAccount does not exist, after retrying only for `default`", async () => {
    const log: string[] = [];
    const p = pod({ serviceAccountName: "robot", containers: [{ name: "a", image: "x" }] });
    const err = await admission({}, log)
      .admit(p)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(403);
    expect((err as ApiError).message).toContain(
      'pods "p" is forbidden: error looking up service account ns1/robot: serviceaccount "robot" not found',
    );
    expect((err as ApiError).message).toContain("kubectl create serviceaccount robot -n ns1");
    expect(log).toEqual(["ns1/robot"]);

    const log2: string[] = [];
    await expect(admission({}, log2).admit(pod({ containers: [] }))).rejects.toThrow(/try again/);
    expect(log2).toHaveLength(27);
  });

  it("leaves mirror pods alone", async () => {
    const p = pod(
      { containers: [{ name: "a", image: "x" }] },
      { annotations: { "kubernetes.io/config.mirror": "x" } },
    );
    await admission({}).admit(p);
    expect(spec(p).volumes).toBeUndefined();
  });
});
