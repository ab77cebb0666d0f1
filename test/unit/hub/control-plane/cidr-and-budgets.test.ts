import type { Pod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { describe, expect, it } from "vitest";
import {
  computeCounts,
  NoControllersError,
  scaledValue,
} from "../../../../src/hub/controllers/disruption/pdb-status.js";
import {
  CidrAllocator,
  CidrExhaustedError,
} from "../../../../src/hub/controllers/node-lifecycle/cidr-allocator.js";
import { tolerationSeconds } from "../../../../src/hub/controllers/node-lifecycle/node-lifecycle-controller.js";

describe("pod CIDR allocator", () => {
  it("hands out the lowest free /24, never a held one, and reuses only after release", () => {
    const a = new CidrAllocator("10.42.0.0/16");
    expect(a.occupy("old", "10.42.0.0/24")).toBe(true);
    expect(a.allocate("n1")).toBe("10.42.1.0/24");
    expect(a.allocate("n1")).toBe("10.42.1.0/24");
    expect(a.occupy("other", "10.42.1.0/24")).toBe(false);
    expect(a.occupy("x", "10.43.0.0/24")).toBe(false);
    expect(a.allocate("n2")).toBe("10.42.2.0/24");
    a.release("n1");
    expect(a.allocate("n3")).toBe("10.42.1.0/24");
  });

  it("reports exhaustion with what to do", () => {
    const a = new CidrAllocator("10.42.0.0/23");
    a.allocate("a");
    a.allocate("b");
    expect(() => a.allocate("c")).toThrow(CidrExhaustedError);
    expect(() => a.allocate("c")).toThrow(/widen --cluster-cidr/);
  });
});

function p(name: string, ready: boolean, owner = "rs1"): Pod {
  return {
    metadata: {
      name,
      namespace: "ns",
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: owner, controller: true },
      ],
    },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

describe("PodDisruptionBudget arithmetic", () => {
  const now = new Date("2025-01-01T00:00:00Z");
  const scale = () => ({ uid: "rs1", replicas: 5 });
  it("scales percentages up", () => {
    expect(scaledValue("50%", 5)).toBe(3);
    expect(scaledValue(2, 5)).toBe(2);
  });
  it("integer minAvailable counts the selected pods", () => {
    const pdb: PodDisruptionBudget = { spec: { minAvailable: 2 } };
    expect(computeCounts(pdb, [p("a", true), p("b", true), p("c", false)], scale, now)).toEqual({
      expectedPods: 3,
      desiredHealthy: 2,
      currentHealthy: 2,
      disruptionsAllowed: 0,
    });
  });
  it("maxUnavailable uses the controller's scale and skips disrupted pods", () => {
    const pdb: PodDisruptionBudget = {
      spec: { maxUnavailable: "20%" },
      status: {
        disruptedPods: { a: "2025-01-01T00:00:00Z" },
        currentHealthy: 0,
        desiredHealthy: 0,
        disruptionsAllowed: 0,
        expectedPods: 0,
      },
    };
    const pods = ["a", "b", "c", "d", "e"].map((n) => p(n, true));
    expect(computeCounts(pdb, pods, scale, now)).toEqual({
      expectedPods: 5,
      desiredHealthy: 4,
      currentHealthy: 4,
      disruptionsAllowed: 0,
    });
  });
  it("fails safe for pods without a controller", () => {
    const pdb: PodDisruptionBudget = { spec: { minAvailable: "50%" } };
    expect(() => computeCounts(pdb, [p("a", true)], () => undefined, now)).toThrow(NoControllersError);
  });
});

describe("unreachable toleration", () => {
  it("is 0 without one, its seconds with one and unlimited without a limit", () => {
    expect(tolerationSeconds({ spec: { containers: [] } })).toBe(0);
    expect(
      tolerationSeconds({
        spec: {
          containers: [],
          tolerations: [
            {
              key: "node.kubernetes.io/unreachable",
              operator: "Exists",
              effect: "NoExecute",
              tolerationSeconds: 300,
            },
          ],
        },
      }),
    ).toBe(300);
    expect(tolerationSeconds({ spec: { containers: [], tolerations: [{ operator: "Exists" }] } })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
