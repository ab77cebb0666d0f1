/** Pure pieces of the join and node sync: tokens, request validation, pod references, logs, CSRs. */
import { describe, expect, it } from "vitest";
import { validateJoinRequest } from "../../../../src/api/join.js";
import type { KubeObject } from "../../../../src/api/object.js";
import { parseTtl } from "../../../../src/cmd/hub-token.js";
import {
  bootstrapTokenSecret,
  checkBootstrapToken,
  readBootstrapSecret,
} from "../../../../src/hub/edge/bootstrap-token.js";
import { ChangeLog } from "../../../../src/hub/edge/change-log.js";
import { mergeConditions, statusFingerprint } from "../../../../src/hub/edge/conditions.js";
import { podReferences } from "../../../../src/hub/edge/desired-refs.js";
import { goArch } from "../../../../src/hub/edge/node-registration.js";
import { formatJoinToken, generateTokenParts, parseJoinToken } from "../../../../src/lib/join-token.js";
import { certIdentity, createCA, createCSR, readCSR, signCSR } from "../../../../src/lib/pki.js";

describe("join tokens", () => {
  it("round-trip and reject malformed tokens", () => {
    const { id, secret } = generateTokenParts();
    expect(id).toMatch(/^[a-z0-9]{6}$/);
    expect(secret).toMatch(/^[a-z0-9]{16}$/);
    const token = formatJoinToken(`sha256:${"0f".repeat(32)}`, id, secret);
    expect(token).toBe(`K10${"0f".repeat(32)}::${id}.${secret}`);
    expect(parseJoinToken(token)).toEqual({ caHash: "0f".repeat(32), id, secret });
    expect(() => parseJoinToken(`K10abc::${id}.${secret}`)).toThrow(/malformed.*edge-hub token create/);
  });

  it("bootstrap Secrets: upstream's fields; wrong, expired and non-auth tokens refused", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const s = bootstrapTokenSecret({
      id: "abcdef",
      secret: "0123456789abcdef",
      expiration: new Date("2026-01-02T00:00:00Z"),
      description: "d",
    });
    expect(s.metadata).toEqual({ name: "bootstrap-token-abcdef", namespace: "kube-system" });
    expect(s.type).toBe("bootstrap.kubernetes.io/token");
    const data = s.data as Record<string, string>;
    expect(Buffer.from(data.expiration!, "base64").toString()).toBe("2026-01-02T00:00:00Z");
    expect(Buffer.from(data["usage-bootstrap-authentication"]!, "base64").toString()).toBe("true");
    expect(readBootstrapSecret(s)).toMatchObject({
      id: "abcdef",
      secret: "0123456789abcdef",
      description: "d",
    });
    expect(checkBootstrapToken(s, "0123456789abcdef", now)).toBe("ok");
    expect(checkBootstrapToken(s, "0123456789abcdeX", now)).toBe("invalid");
    expect(checkBootstrapToken(undefined, "0123456789abcdef", now)).toBe("invalid");
    expect(checkBootstrapToken(s, "0123456789abcdef", new Date("2026-01-03T00:00:00Z"))).toBe("expired");
    const noAuth = {
      ...s,
      data: { ...data, "usage-bootstrap-authentication": Buffer.from("false").toString("base64") },
    };
    expect(checkBootstrapToken(noAuth, "0123456789abcdef", now)).toBe("invalid");
  });

  it("--ttl durations", () => {
    expect(parseTtl("24h")).toBe(86_400_000);
    expect(parseTtl("1h30m")).toBe(5_400_000);
    expect(parseTtl("0")).toBe(0);
    expect(() => parseTtl("1d")).toThrow(/not a duration/);
  });
});

describe("join request validation", () => {
  const facts = {
    architecture: "arm64",
    operatingSystem: "linux",
    kernelVersion: "6",
    osImage: "x",
    containerRuntimeVersion: "docker://1",
    cpu: 4,
    memoryBytes: 1,
    ephemeralStorageBytes: 1,
    pods: 110,
    machineID: "m",
    bootID: "b",
    hostname: "h",
  };
  it("accepts a good request and names every bad field", () => {
    const ok = validateJoinRequest({
      nodeName: "pi-1",
      nodeIP: "198.51.100.3",
      csr: "x",
      facts,
      taints: [{ key: "k", effect: "NoSchedule" }],
    });
    expect("request" in ok && ok.request.taints).toEqual([{ key: "k", effect: "NoSchedule" }]);
    expect("request" in ok && ok.request.csr).toBe("x");
    // no CSR: the node asks for a password
    const pw = validateJoinRequest({ nodeName: "pi-1", nodeIP: "198.51.100.3", facts });
    expect("request" in pw && "csr" in pw.request).toBe(false);
    const bad = validateJoinRequest({
      nodeName: "Pi_1",
      nodeIP: "nope",
      csr: "",
      facts: { ...facts, cpu: -1 },
      taints: [{ key: "k", effect: "Sometimes" }],
    });
    expect("causes" in bad && bad.causes.map((c) => c.field)).toEqual([
      "nodeName",
      "nodeIP",
      "csr",
      "taints[0].effect",
      "facts.cpu",
    ]);
  });
  it("maps architectures to Go's names", () => {
    expect([goArch("x64"), goArch("aarch64"), goArch("arm"), goArch("armv7l")]).toEqual([
      "amd64",
      "arm64",
      "arm",
      "arm",
    ]);
  });
});

describe("pod references", () => {
  it("collects volumes, projected sources, env, envFrom, pull secrets and ephemeral claims", () => {
    const pod: KubeObject = {
      metadata: { name: "p", namespace: "ns" },
      spec: {
        volumes: [
          { name: "a", configMap: { name: "cm1" } },
          { name: "b", secret: { secretName: "s1" } },
          { name: "c", persistentVolumeClaim: { claimName: "pvc1" } },
          { name: "d", projected: { sources: [{ configMap: { name: "cm2" } }, { secret: { name: "s2" } }] } },
          { name: "e", ephemeral: { volumeClaimTemplate: {} } },
        ],
        initContainers: [
          { name: "i", env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s3", key: "k" } } }] },
        ],
        containers: [
          { name: "c", envFrom: [{ configMapRef: { name: "cm3" } }, { secretRef: { name: "s4" } }] },
          { name: "d", env: [{ name: "Y", valueFrom: { configMapKeyRef: { name: "cm1", key: "k" } } }] },
        ],
        imagePullSecrets: [{ name: "pull" }],
      },
    };
    expect(podReferences(pod).sort()).toEqual(
      [
        "core/configmaps/ns/cm1",
        "core/configmaps/ns/cm2",
        "core/configmaps/ns/cm3",
        "core/persistentvolumeclaims/ns/p-e",
        "core/persistentvolumeclaims/ns/pvc1",
        "core/secrets/ns/pull",
        "core/secrets/ns/s1",
        "core/secrets/ns/s2",
        "core/secrets/ns/s3",
        "core/secrets/ns/s4",
      ].sort(),
    );
  });
});

describe("change log", () => {
  it("returns the newest op per key above the watermark and moves its floor when trimmed", () => {
    const log = new ChangeLog(10, 4);
    log.append({ op: "put", key: "a", revision: 11 });
    log.append({ op: "put", key: "b", revision: 12 });
    log.append({ op: "delete", key: "a", revision: 13 });
    expect([...log.since(10).values()]).toEqual([
      { op: "delete", key: "a", revision: 13 },
      { op: "put", key: "b", revision: 12 },
    ]);
    expect([...log.since(12).keys()]).toEqual(["a"]);
    log.append({ op: "put", key: "c", revision: 14 });
    log.append({ op: "put", key: "d", revision: 15 });
    expect(log.covers(10)).toBe(false);
    expect(log.floor).toBe(12);
    expect(log.covers(12)).toBe(true);
  });
});

describe("conditions", () => {
  it("keeps transition times while the status holds and keeps others' conditions", () => {
    const stored = [
      { type: "Ready", status: "True", lastTransitionTime: "t0" },
      { type: "PodScheduled", status: "True", lastTransitionTime: "t0" },
    ];
    const merged = mergeConditions(stored, [{ type: "Ready", status: "True" }], "t1", { heartbeat: true });
    expect(merged).toEqual([
      { type: "Ready", status: "True", lastHeartbeatTime: "t1", lastTransitionTime: "t0" },
      { type: "PodScheduled", status: "True", lastTransitionTime: "t0" },
    ]);
    const flipped = mergeConditions(stored, [{ type: "Ready", status: "False" }], "t2", { heartbeat: false });
    expect(flipped[0]).toEqual({ type: "Ready", status: "False", lastTransitionTime: "t2" });
    expect(
      statusFingerprint({ conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "a" }] }),
    ).toBe(statusFingerprint({ conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "b" }] }));
    // a real change shows, and the fingerprint is a short digest, not the status's JSON
    const ready = statusFingerprint({ conditions: [{ type: "Ready", status: "True" }] });
    expect(ready).not.toBe(statusFingerprint({ conditions: [{ type: "Ready", status: "False" }] }));
    expect(ready).not.toBe(
      statusFingerprint({ conditions: [{ type: "Ready", status: "True" }], addresses: [{ address: "a" }] }),
    );
    expect(ready.length).toBeLessThanOrEqual(44);
  });
});

describe("CSRs", () => {
  it("signs a node CSR with its subject and rejects a tampered one", async () => {
    const ca = await createCA("test-ca");
    const { csrPem } = await createCSR("system:node:pi-1", ["system:nodes"]);
    expect(await readCSR(csrPem)).toEqual({
      commonName: "system:node:pi-1",
      organizations: ["system:nodes"],
    });
    const cert = await signCSR(ca, csrPem, { usage: "client", days: 1 });
    expect(certIdentity(cert)).toEqual({ commonName: "system:node:pi-1", organizations: ["system:nodes"] });
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5] = (der[der.length - 5]! + 1) % 256; // flip a signature byte
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(readCSR(tampered)).rejects.toThrow(/signature|unsupported|not a PEM/);
    await expect(readCSR("garbage")).rejects.toThrow(/not a PEM PKCS#10/);
  });
});
