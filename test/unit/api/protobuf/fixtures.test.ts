/**
 * Bodies captured from real kubectl 1.32 (test/fixtures/protobuf/, recorded by the capture
 * server in test/helpers/capture-apiserver.ts), decoded to what the JSON codec would print
 * — the same objects `kubectl create … --dry-run=client -o json` shows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../../src/api/protobuf/index.js";

const fixture = (name: string): Buffer =>
  readFileSync(join(import.meta.dirname, "../../../fixtures/protobuf", `kubectl-1.32-${name}.pb`));

describe("kubectl 1.32 captured protobuf bodies", () => {
  it("create configmap c1 --from-literal=a=b", () => {
    expect(decodeProtobufBody(fixture("create-configmap"))).toEqual({
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { name: "c1", creationTimestamp: null },
      data: { a: "b" },
    });
  });

  it("create secret generic s1 --from-literal=k=v", () => {
    expect(decodeProtobufBody(fixture("create-secret"))).toEqual({
      kind: "Secret",
      apiVersion: "v1",
      metadata: { name: "s1", creationTimestamp: null },
      data: { k: Buffer.from("v").toString("base64") },
    });
  });

  it("create deployment d1 --image=busybox:1.36 --replicas=2 --port=80", () => {
    const labels = { app: "d1" };
    expect(decodeProtobufBody(fixture("create-deployment"))).toEqual({
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "d1", creationTimestamp: null, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { creationTimestamp: null, labels },
          spec: {
            containers: [
              { name: "busybox", image: "busybox:1.36", ports: [{ containerPort: 80 }], resources: {} },
            ],
          },
        },
        strategy: {},
      },
      status: {},
    });
  });

  it("create cronjob cj1 --image=busybox --schedule='*/1 * * * *'", () => {
    expect(decodeProtobufBody(fixture("create-cronjob"))).toEqual({
      kind: "CronJob",
      apiVersion: "batch/v1",
      metadata: { name: "cj1", creationTimestamp: null },
      spec: {
        schedule: "*/1 * * * *",
        jobTemplate: {
          metadata: { name: "cj1", creationTimestamp: null },
          spec: {
            template: {
              metadata: { creationTimestamp: null },
              spec: {
                containers: [{ name: "cj1", image: "busybox", resources: {} }],
                restartPolicy: "OnFailure",
              },
            },
          },
        },
      },
      status: {},
    });
  });

  it("create ingress i1 --rule=a.com/=svc:80", () => {
    expect(decodeProtobufBody(fixture("create-ingress"))).toEqual({
      kind: "Ingress",
      apiVersion: "networking.k8s.io/v1",
      metadata: { name: "i1", creationTimestamp: null },
      spec: {
        rules: [
          {
            host: "a.com",
            http: {
              paths: [
                { path: "/", pathType: "Exact", backend: { service: { name: "svc", port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
      status: { loadBalancer: {} },
    });
  });

  it("auth can-i get pods", () => {
    expect(decodeProtobufBody(fixture("auth-can-i"))).toEqual({
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { namespace: "default", verb: "get", resource: "pods" } },
      status: { allowed: false },
    });
  });

  it("auth whoami", () => {
    expect(decodeProtobufBody(fixture("auth-whoami"))).toEqual({
      kind: "SelfSubjectReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      status: { userInfo: {} },
    });
  });
});
