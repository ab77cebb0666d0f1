/**
 * podDNS: what a pod's resolv.conf says (Docker writes it from these lists), per dnsPolicy, with
 * the pod's dnsConfig merged the kubelet's way. The dev-cluster services test reads the file a
 * real pod gets; this one covers the policies and merge rules.
 */
import type { Pod, PodSpec } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { podDNS } from "../../../src/edge-agent/pods/runtime-spec.js";

const cluster = { nameservers: ["10.43.0.10"], domain: "cluster.local" };
const pod = (spec: Partial<PodSpec> = {}, namespace = "prod"): Pod => ({
  metadata: { name: "p", namespace },
  spec: { containers: [], ...spec },
});

describe("podDNS", () => {
  it("ClusterFirst (the default): the cluster DNS, the namespace's search path and ndots:5", () => {
    expect(podDNS(pod(), cluster)).toEqual({
      nameservers: ["10.43.0.10"],
      searches: ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local"],
      options: ["ndots:5"],
    });
    expect(podDNS(pod({ dnsPolicy: "ClusterFirst" }, "default"), cluster)?.searches?.[0]).toBe(
      "default.svc.cluster.local",
    );
  });

  it("hostNetwork and Default keep the host's resolv.conf; ClusterFirstWithHostNet does not", () => {
    expect(podDNS(pod({ hostNetwork: true }), cluster)).toBeUndefined();
    expect(podDNS(pod({ dnsPolicy: "Default" }), cluster)).toBeUndefined();
    expect(
      podDNS(pod({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), cluster)?.nameservers,
    ).toEqual(["10.43.0.10"]);
  });

  it("merges dnsConfig as the kubelet does: no duplicates, the pod's option value wins, 3 nameservers", () => {
    const dns = podDNS(
      pod({
        dnsConfig: {
          nameservers: ["10.43.0.10", "192.0.2.53", "192.0.2.54", "192.0.2.55"],
          searches: ["svc.cluster.local", "corp.example"],
          options: [{ name: "ndots", value: "2" }, { name: "edns0" }],
        },
      }),
      cluster,
    );
    expect(dns).toEqual({
      nameservers: ["10.43.0.10", "192.0.2.53", "192.0.2.54"],
      searches: ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"],
      options: ["ndots:2", "edns0"],
    });
  });

  it("None uses dnsConfig alone", () => {
    expect(
      podDNS(
        pod({ dnsPolicy: "None", dnsConfig: { nameservers: ["192.0.2.53"], searches: ["x.example"] } }),
        cluster,
      ),
    ).toEqual({ nameservers: ["192.0.2.53"], searches: ["x.example"], options: [] });
  });
});
