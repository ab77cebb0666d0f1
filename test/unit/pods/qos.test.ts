import type { Pod } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { qosClass } from "../../../src/edge-agent/pods/index.js";

const pod = (...resources: NonNullable<Pod["spec"]>["containers"][number]["resources"][]): Pod => ({
  spec: { containers: resources.map((r, i) => ({ name: `c${i}`, resources: r })) },
});

describe("qosClass", () => {
  it.each([
    ["no resources", pod({}), "BestEffort"],
    ["zero quantities", pod({ requests: { cpu: "0" } }), "BestEffort"],
    ["limits only (requests default to them)", pod({ limits: { cpu: "1", memory: "1Gi" } }), "Guaranteed"],
    [
      "requests equal limits",
      pod({ limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "0.5", memory: "128Mi" } }),
      "Guaranteed",
    ],
    [
      "request below limit",
      pod({ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } }),
      "Burstable",
    ],
    ["memory limit missing", pod({ limits: { cpu: "1" } }), "Burstable"],
    ["one container best effort", pod({ limits: { cpu: "1", memory: "1Gi" } }, {}), "Burstable"],
    ["request only", pod({ requests: { memory: "10Mi" } }), "Burstable"],
  ])("%s", (_name, p, want) => {
    expect(qosClass(p)).toBe(want);
  });
});
