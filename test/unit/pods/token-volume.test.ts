/**
 * The kube-api-access projected volume on the agent's disk (prepareVolumes with a PodSource
 * whose token answers are scripted): token, ca.crt and namespace projected; a refreshed token
 * swapped in place; a pod without any token fails the mount with the hub's reason; a failed
 * refresh keeps the files projected before (kubelet's behaviour, offline autonomy).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import type { PodSource, ServiceAccountTokenResult } from "../../../src/edge-agent/pods/index.js";
import { prepareVolumes, VolumeError } from "../../../src/edge-agent/pods/index.js";
import { tokenVolumeSource } from "../../../src/hub/apiserver/admission/service-account.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "ns1", uid: "uid-1" },
  spec: { containers: [], volumes: [{ name: "kube-api-access-abcde", projected: tokenVolumeSource() }] },
} as unknown as KubeObject;

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), "ek-tokvol-"));
  dirs.push(dataDir);
  const answer: { next: ServiceAccountTokenResult } = { next: { token: "tok-1" } };
  const asked: string[] = [];
  const source: PodSource = {
    pods: () => [pod],
    get: (kind, ns, name) =>
      kind === "ConfigMap" && name === "kube-root-ca.crt"
        ? ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace: ns },
            data: { "ca.crt": "CA" },
          } as KubeObject)
        : undefined,
    onChange: () => () => {},
    serviceAccountToken: async (_pod, audience, seconds) => {
      asked.push(`${audience}/${seconds}`);
      return answer.next;
    },
  };
  const warnings: string[] = [];
  const prepare = () =>
    prepareVolumes(
      pod,
      {
        pod: pod as unknown as Pod,
        allocatable: { cpuMilli: 1000, memoryBytes: 1 << 30, ephemeralBytes: 0 },
      },
      {
        host: { dataDir, persistentVolumePath: () => "" },
        source,
        nodeLabels: {},
        isRoot: false,
        warn: (_reason, message) => warnings.push(message),
      },
    );
  return { answer, asked, warnings, prepare };
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

describe("kube-api-access volume on the agent", () => {
  it("projects token, ca.crt and namespace, and swaps a refreshed token in place", async () => {
    const s = setup();
    const dir = (await s.prepare()).get("kube-api-access-abcde")?.path ?? "";
    expect(s.asked).toEqual(["/3607"]);
    expect(read(dir, "token")).toBe("tok-1");
    expect(read(dir, "ca.crt")).toBe("CA");
    expect(read(dir, "namespace")).toBe("ns1");
    s.answer.next = { token: "tok-2" };
    await s.prepare();
    expect(read(dir, "token")).toBe("tok-2");
  });

  it("fails the mount without a token, with the reason", async () => {
    const s = setup();
    s.answer.next = { error: 'the hub refused the service account token: serviceaccounts "x" not found' };
    const err = await s.prepare().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect((err as Error).message).toBe(
      'MountVolume.SetUp failed for volume "kube-api-access-abcde" : failed to fetch token: ' +
        'the hub refused the service account token: serviceaccounts "x" not found',
    );
  });

  it("keeps the projected files when a refresh fails (the pod keeps running)", async () => {
    const s = setup();
    const dir = (await s.prepare()).get("kube-api-access-abcde")?.path ?? "";
    s.answer.next = { error: "the edge link to the hub is down" };
    const again = await s.prepare();
    expect(again.get("kube-api-access-abcde")?.path).toBe(dir);
    expect(read(dir, "token")).toBe("tok-1");
    expect(s.warnings.at(-1)).toMatch(/the edge link to the hub is down; keeping the files projected before/);
  });
});
