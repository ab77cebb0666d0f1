/**
 * The service proxy planner and its nftables rendering, table-driven: for each service type and
 * policy, which map elements point where and what the chains contain.
 */
import type { Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { describe, expect, it } from "vitest";
import {
  diffScript,
  fullScript,
  type NftServiceRules,
  nftServiceRules,
  renderAll,
} from "../../src/lb/nft-rules.js";
import { planServices } from "../../src/lb/planner.js";
import type { ServiceState } from "../../src/lb/types.js";
import { service, slice } from "../helpers/services-fixtures.js";

const CIDR = "10.42.0.0/16";
function state(
  services: Service[],
  endpointSlices: EndpointSlice[],
  extra: Partial<ServiceState> = {},
): ServiceState {
  return { services, endpointSlices, nodeName: "n1", nodeIPs: ["198.51.100.2"], clusterCIDR: CIDR, ...extra };
}
function rulesOf(
  services: Service[],
  slices: EndpointSlice[],
  extra: Partial<ServiceState> = {},
): NftServiceRules[] {
  const plan = planServices(state(services, slices, extra));
  return plan.ports.map((p) => nftServiceRules(p, CIDR));
}
const two = [
  { ip: "10.42.1.5", node: "n1" },
  { ip: "10.42.2.6", node: "n2" },
];
const elements = (r: NftServiceRules) =>
  r.elements.map((e) => `${e.map}: ${e.key} → ${e.value.split(" ")[0]}`);
const chain = (r: NftServiceRules, prefix: string) =>
  r.chains.find((c) => c.name.startsWith(prefix))?.rules ?? [];

describe("planServices → nft rules", () => {
  const cases: {
    name: string;
    svc: Service;
    eps: Parameters<typeof slice>[1];
    ports?: Parameters<typeof slice>[2];
    elements: string[];
    endpoints: string[];
    localEndpoints?: string[];
  }[] = [
    {
      name: "ClusterIP balances ready endpoints",
      svc: service("web", "10.43.0.20"),
      eps: two,
      elements: ["service-ips: 10.43.0.20 . tcp . 80 → goto"],
      endpoints: ["10.42.1.5:8080", "10.42.2.6:8080"],
    },
    {
      name: "not-ready endpoints are excluded",
      svc: service("web", "10.43.0.20"),
      eps: [...two, { ip: "10.42.2.7", node: "n2", ready: false }],
      elements: ["service-ips: 10.43.0.20 . tcp . 80 → goto"],
      endpoints: ["10.42.1.5:8080", "10.42.2.6:8080"],
    },
    {
      name: "only terminating-but-serving endpoints left → they are used",
      svc: service("web", "10.43.0.20"),
      eps: [{ ip: "10.42.1.5", ready: false, serving: true, terminating: true }],
      elements: ["service-ips: 10.43.0.20 . tcp . 80 → goto"],
      endpoints: ["10.42.1.5:8080"],
    },
    {
      name: "no usable endpoint → reject",
      svc: service("web", "10.43.0.20"),
      eps: [{ ip: "10.42.1.5", ready: false }],
      elements: ["no-endpoint-services: 10.43.0.20 . tcp . 80 → goto"],
      endpoints: [],
    },
    {
      name: "named targetPort resolved from the slice port of the same name",
      svc: service("web", "10.43.0.20", { ports: [{ name: "web", port: 80, targetPort: "http-alt" }] }),
      eps: two,
      ports: [
        { name: "metrics", port: 9100 },
        { name: "web", port: 8443 },
      ],
      elements: ["service-ips: 10.43.0.20 . tcp . 80 → goto"],
      endpoints: ["10.42.1.5:8443", "10.42.2.6:8443"],
    },
    {
      name: "NodePort adds a node port element to the external chain",
      svc: service("web", "10.43.0.20", {
        type: "NodePort",
        ports: [{ name: "http", port: 80, nodePort: 30080 }],
      }),
      eps: two,
      elements: ["service-ips: 10.43.0.20 . tcp . 80 → goto", "service-nodeports: tcp . 30080 → goto"],
      endpoints: ["10.42.1.5:8080", "10.42.2.6:8080"],
    },
    {
      name: "internalTrafficPolicy Local → ClusterIP goes to local endpoints only",
      svc: service("web", "10.43.0.20", { internalTrafficPolicy: "Local" }),
      eps: two,
      elements: ["service-ips: 10.43.0.20 . tcp . 80 → goto"],
      endpoints: ["10.42.1.5:8080", "10.42.2.6:8080"],
      localEndpoints: ["10.42.1.5:8080"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [r, ...rest] = rulesOf([c.svc], [slice(c.svc.metadata!.name!, c.eps, c.ports)]);
      expect(rest).toEqual([]);
      expect(elements(r!)).toEqual(c.elements);
      const plan = planServices(state([c.svc], [slice(c.svc.metadata!.name!, c.eps, c.ports)])).ports[0]!;
      expect(plan.clusterEndpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(c.endpoints);
      if (c.localEndpoints)
        expect(plan.localEndpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(c.localEndpoints);
    });
  }

  it("skips headless and ExternalName services, and warns about broken ones", () => {
    const plan = planServices(
      state(
        [
          service("h", "None"),
          service("x", "", { type: "ExternalName", externalName: "example.test" }),
          service("bad", "10.43.0.30", { ports: [{ port: 70000 }] }),
        ],
        [],
      ),
    );
    expect(plan.ports).toEqual([]);
    expect(plan.warnings).toEqual(["default/bad: port 70000 is outside 1–65535"]);
  });

  it("uses numgen over endpoints, masquerades off-cluster ClusterIP clients, marks hairpin", () => {
    const [r] = rulesOf([service("web", "10.43.0.20")], [slice("web", two)]);
    const svc = chain(r!, "svc-");
    expect(svc[0]).toBe(`ip daddr 10.43.0.20 tcp dport 80 ip saddr != ${CIDR} jump mark-for-masquerade`);
    expect(svc[1]).toMatch(
      /^numgen random mod 2 vmap \{ 0 : goto ep-\S+10\.42\.1\.5\/8080, 1 : goto ep-\S+10\.42\.2\.6\/8080 \}$/,
    );
    const ep = r!.chains.find((c) => c.name.endsWith("__10.42.1.5/8080"))!.rules;
    expect(ep).toEqual([
      "ip saddr 10.42.1.5 jump mark-for-masquerade",
      "meta l4proto tcp dnat to 10.42.1.5:8080",
    ]);
  });

  it("sessionAffinity ClientIP: sticky checks before numgen, affinity update in each endpoint", () => {
    const svc = service("web", "10.43.0.20", {
      sessionAffinity: "ClientIP",
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    });
    const [r] = rulesOf([svc], [slice("web", two)]);
    expect(r!.sets.map((s) => s.timeoutSeconds)).toEqual([600, 600]);
    const rules = chain(r!, "svc-");
    expect(rules.filter((x) => x.startsWith("ip saddr @aff-"))).toHaveLength(2);
    expect(rules.at(-1)).toMatch(/^numgen/);
    expect(r!.chains.find((c) => c.name.startsWith("ep-"))!.rules[1]).toMatch(
      /^update @aff-\S+ \{ ip saddr \}$/,
    );
  });

  it("externalTrafficPolicy Cluster: external chain marks for SNAT then uses every endpoint", () => {
    const svc = service("web", "10.43.0.20", {
      type: "LoadBalancer",
      ports: [{ name: "http", port: 80, nodePort: 30080 }],
    });
    const lb = {
      ...svc,
      status: { loadBalancer: { ingress: [{ ip: "198.51.100.2" }, { ip: "192.0.2.50" }] } },
    };
    const [r] = rulesOf([lb], [slice("web", two)]);
    expect(elements(r!)).toEqual([
      "service-ips: 10.43.0.20 . tcp . 80 → goto",
      "service-ips: 192.0.2.50 . tcp . 80 → goto",
      "service-ips: 198.51.100.2 . tcp . 80 → goto",
      "service-nodeports: tcp . 30080 → goto",
    ]);
    expect(chain(r!, "ext-")).toEqual(["jump mark-for-masquerade", expect.stringMatching(/^goto svc-/)]);
  });

  it("externalTrafficPolicy Local: no SNAT, local endpoints only, drop when none is local", () => {
    const svc = service("web", "10.43.0.20", {
      type: "NodePort",
      externalTrafficPolicy: "Local",
      ports: [{ name: "http", port: 80, nodePort: 30080 }],
    });
    const [r] = rulesOf([svc], [slice("web", two)]);
    const ext = chain(r!, "ext-");
    expect(ext[0]).toMatch(new RegExp(`^ip saddr ${CIDR.replace(/\./g, "\\.")} goto svc-`));
    expect(ext.at(-1)).toMatch(/^goto local-/);
    expect(chain(r!, "local-").at(-1)).toMatch(
      /^numgen random mod 1 vmap \{ 0 : goto ep-\S+10\.42\.1\.5\/8080 \}$/,
    );
    const [r2] = rulesOf([svc], [slice("web", [{ ip: "10.42.2.6", node: "n2" }])]);
    expect(chain(r2!, "ext-").at(-1)).toBe("drop");
  });

  it("internalTrafficPolicy Local: the ClusterIP goes to the local- chain; none local → drop, not reject", () => {
    const svc = service("web", "10.43.0.20", { internalTrafficPolicy: "Local" });
    const [r] = rulesOf([svc], [slice("web", two)]);
    const local = r!.chains.find((c) => c.name.startsWith("local-"))!;
    expect(r!.elements).toEqual([
      { map: "service-ips", key: "10.43.0.20 . tcp . 80", value: `goto ${local.name}` },
    ]);
    expect(local.rules.at(-1)).toMatch(/^numgen random mod 1 vmap \{ 0 : goto ep-\S+10\.42\.1\.5\/8080 \}$/);
    // endpoints only on n2: this node drops ClusterIP traffic (kube-proxy), while a service
    // without any endpoint at all is rejected
    const [r2] = rulesOf([svc], [slice("web", [{ ip: "10.42.2.6", node: "n2" }])]);
    expect(r2!.elements).toEqual([
      { map: "no-endpoint-services", key: "10.43.0.20 . tcp . 80", value: "drop" },
    ]);
    const [r3] = rulesOf([svc], [slice("web", [])]);
    expect(r3!.elements).toEqual([
      { map: "no-endpoint-services", key: "10.43.0.20 . tcp . 80", value: "goto reject-chain" },
    ]);
    // Cluster policy (the default) points the ClusterIP at the svc- chain over every endpoint
    const [r4] = rulesOf([service("web", "10.43.0.20")], [slice("web", two)]);
    expect(r4!.elements[0]?.value).toMatch(/^goto svc-/);
  });

  it("localPodIPs hides stale local endpoints (cached slice after an offline reboot)", () => {
    const plan = planServices(
      state([service("web", "10.43.0.20")], [slice("web", two)], { localPodIPs: new Set(["10.42.1.99"]) }),
    );
    expect(plan.ports[0]!.clusterEndpoints.map((e) => e.ip)).toEqual(["10.42.2.6"]);
  });

  it("a duplicate ClusterIP/port is skipped with a warning instead of breaking the transaction", () => {
    const plan = planServices(state([service("a", "10.43.0.20"), service("b", "10.43.0.20")], []));
    expect(plan.ports.map((p) => p.name)).toEqual(["a"]);
    expect(plan.warnings[0]).toMatch(/already used by default\/a/);
  });
});

describe("nft scripts", () => {
  const base = [service("a", "10.43.0.20"), service("b", "10.43.0.21")];
  const before = renderAll(planServices(state(base, [slice("a", two), slice("b", two)])));

  it("the full script recreates the table atomically", () => {
    const s = fullScript(before.values());
    expect(s.split("\n").slice(0, 3)).toEqual([
      "add table ip edgekube-lb",
      "delete table ip edgekube-lb",
      "add table ip edgekube-lb",
    ]);
    // the mark is cleared before MASQUERADE (the VXLAN copy inherits the mark), and only
    // marked packets get there
    expect(s.split("\n").filter((l) => l.startsWith("add rule ip edgekube-lb nat-postrouting"))).toEqual([
      "add rule ip edgekube-lb nat-postrouting meta mark & 0x4000 == 0 return",
      "add rule ip edgekube-lb nat-postrouting meta mark set meta mark ^ 0x4000",
      "add rule ip edgekube-lb nat-postrouting masquerade fully-random",
    ]);
  });

  it("an endpoint change rewrites only that service's chains and elements", () => {
    const after = renderAll(planServices(state(base, [slice("a", two.slice(0, 1)), slice("b", two)])));
    const { script, changed } = diffScript(before, after);
    expect(changed).toEqual(["default/a/tcp/http"]);
    const lines = script.trim().split("\n");
    expect(lines.every((l) => !l.includes("default/b/"))).toBe(true);
    const dropped = /^delete chain ip edgekube-lb ep-\S+default\/a\/tcp\/http__10\.42\.2\.6\/8080$/;
    expect(lines.filter((l) => dropped.test(l))).toHaveLength(1);
    // chains are deleted last, after every reference to them is flushed away
    const firstDelete = lines.findIndex((l) => l.startsWith("delete chain"));
    expect(lines.slice(firstDelete).every((l) => l.startsWith("delete "))).toBe(true);
    expect(diffScript(after, after).script).toBe("");
  });

  it("removing a service deletes its elements, chains and nothing else", () => {
    const after = renderAll(planServices(state(base.slice(1), [slice("b", two)])));
    const { script, changed } = diffScript(before, after);
    expect(changed).toEqual(["default/a/tcp/http"]);
    expect(script).toContain("delete element ip edgekube-lb service-ips { 10.43.0.20 . tcp . 80 }");
    expect(script).not.toContain("add ");
  });
});
