/**
 * The agent's services wiring from a fake cache: ServiceState (local pod IPs from the pod
 * manager's statuses, forgotten pods; the runtime's running pods it is seeded with at start), DNS liveness of this node's endpoints (the
 * stale-EndpointSlice case), DNS source revisions, resolv.conf upstreams, and NodeServices end to
 * end against a recording Exec (no kernel changes) with its DNS server on loopback.
 */
import { Resolver } from "node:dns/promises";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Node, Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CommandError, type Exec } from "../../../src/cni/exec.js";
import {
  announce,
  DNS_LO_LABEL,
  dnsSourceOf,
  electedAddresses,
  endpointLiveness,
  ensureDnsAddress,
  LocalPods,
  NodeServices,
  removeDnsAddress,
  runningAtStart,
  type ServicesCache,
  serviceStateOf,
  upstreamsFromResolvConf,
} from "../../../src/edge-agent/services/index.js";
import { service, slice } from "../../helpers/services-fixtures.js";

function pod(uid: string): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: uid, namespace: "default", uid } };
}

class FakeCache implements ServicesCache {
  svcs: Service[] = [];
  slices: EndpointSlice[] = [];
  myPods: Pod[] = [];
  allNodes: Node[] = [];
  private readonly cbs = new Set<() => void>();
  services = () => this.svcs;
  endpointSlices = () => this.slices;
  pods = () => this.myPods;
  nodes = () => this.allNodes;
  onChange(cb: () => void) {
    this.cbs.add(cb);
    return () => this.cbs.delete(cb);
  }
  changed() {
    for (const cb of this.cbs) cb();
  }
}

const node = { nodeName: "n1", nodeIPs: ["192.0.2.11"], clusterCIDR: "10.42.0.0/16" };

describe("serviceStateOf and LocalPods", () => {
  it("passes the cache through and counts only desired pods seen Running with an IP", () => {
    const cache = new FakeCache();
    cache.svcs = [service("web", "10.43.0.20")];
    cache.slices = [slice("web", [{ ip: "10.42.1.5", node: "n1", ready: true }])];
    cache.myPods = [pod("u1"), pod("u2"), pod("u3")];
    const local = new LocalPods();
    local.observe("u1", { phase: "Running", podIP: "10.42.1.5" });
    local.observe("u2", { phase: "Pending", podIP: "10.42.1.6" });
    local.observe("u3", { phase: "Running" });
    local.observe("gone", { phase: "Running", podIP: "10.42.1.9" });
    const st = serviceStateOf(cache, local, node);
    expect(st.services).toBe(cache.svcs);
    expect(st.endpointSlices).toBe(cache.slices);
    expect(st).toMatchObject({ nodeName: "n1", nodeIPs: ["192.0.2.11"], clusterCIDR: "10.42.0.0/16" });
    expect([...(st.localPodIPs ?? [])]).toEqual(["10.42.1.5"]);
    // the undesired pod was forgotten, not just filtered
    expect([...local.ips()]).toEqual(["10.42.1.5"]);
  });

  it("notifies and moves its revision only when a pod's IP or running state changes", () => {
    const local = new LocalPods();
    const seen = vi.fn();
    local.onChange(seen);
    local.observe("u1", { phase: "Pending" });
    local.observe("u1", { phase: "Pending" });
    local.observe("u1", { phase: "Running", podIP: "10.42.1.5" });
    expect(seen).toHaveBeenCalledTimes(2);
    expect(local.revision()).toBe(2);
    local.observe(undefined, { phase: "Running", podIP: "10.42.1.7" });
    expect(local.revision()).toBe(2);
  });

  it("hides this node's endpoints whose pods do not run here, trusts other nodes'", () => {
    const local = new LocalPods();
    const live = endpointLiveness("n1", () => local.ips());
    const s = slice("web", []);
    const mine = { addresses: ["10.42.1.5"], nodeName: "n1" };
    const theirs = { addresses: ["10.42.2.5"], nodeName: "n2" };
    expect(live(mine, s)).toBe(false); // cached before an offline reboot, pod not running
    expect(live(theirs, s)).toBe(true);
    local.observe("u1", { phase: "Running", podIP: "10.42.1.5" });
    expect(live(mine, s)).toBe(true);
  });

  it("seeds from the runtime only desired pods whose sandbox and every app container run", () => {
    const running = { running: { startedAt: "2026-01-01T00:00:00Z" } };
    const waiting = { waiting: { reason: "ContainerCreating" } };
    const pods = [
      {
        uid: "ok",
        sandbox: { running: true },
        containers: [
          { role: "init", state: {} },
          { role: "app", state: running },
        ],
      },
      { uid: "not-desired", sandbox: { running: true }, containers: [{ role: "app", state: running }] },
      { uid: "sandbox-down", sandbox: { running: false }, containers: [{ role: "app", state: running }] },
      { uid: "no-sandbox", containers: [{ role: "app", state: running }] },
      {
        uid: "one-app-waiting",
        sandbox: { running: true },
        containers: [
          { role: "app", state: running },
          { role: "app", state: waiting },
        ],
      },
      { uid: "no-apps", sandbox: { running: true }, containers: [] },
    ];
    const desired = new Set(["ok", "sandbox-down", "no-sandbox", "one-app-waiting", "no-apps"]);
    expect(runningAtStart(pods, desired)).toEqual(["ok"]);
  });

  it("gives DNS a revision that moves with the cache and with local pods", () => {
    const cache = new FakeCache();
    const local = new LocalPods();
    const src = dnsSourceOf(cache, local);
    const r0 = src.revision?.();
    cache.changed();
    const r1 = src.revision?.();
    local.observe("u1", { phase: "Running", podIP: "10.42.1.5" });
    const r2 = src.revision?.();
    expect(new Set([r0, r1, r2]).size).toBe(3);
    src.dispose();
    cache.changed();
    expect(src.revision?.()).toBe(r2);
  });

  it("reads upstreams from resolv.conf without the cluster DNS itself or IPv6", () => {
    const text =
      "# x\nsearch lan\nnameserver 192.0.2.53\nnameserver 10.43.0.10\nnameserver ::1\nnameserver 192.0.2.53\n nameserver 127.0.0.53\n";
    expect(upstreamsFromResolvConf(text, "10.43.0.10")).toEqual([
      { address: "192.0.2.53" },
      { address: "127.0.0.53" },
    ]);
  });
});

function kNode(name: string, ip: string, ready = true, labels: Record<string, string> = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    status: {
      addresses: [{ type: "InternalIP", address: ip }],
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

function poolLb(name: string, ip: string, local = false): Service {
  const svc = service(name, "10.43.0.50", {
    type: "LoadBalancer",
    ...(local ? { externalTrafficPolicy: "Local" } : {}),
  });
  return { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } };
}

describe("address-pool election (who answers ARP)", () => {
  const nodes = [kNode("n1", "192.0.2.11"), kNode("n2", "192.0.2.12"), kNode("n3", "192.0.2.13")];
  const winners = (svcs: Service[], slices: EndpointSlice[], ns: Node[]) =>
    ns.flatMap((n) =>
      electedAddresses(svcs, slices, ns, n.metadata?.name ?? "").map((ip) => `${n.metadata?.name}:${ip}`),
    );

  it("gives each pool address to exactly one Ready node, and none for node addresses (klipper)", () => {
    const svcs = [poolLb("a", "192.0.2.240"), poolLb("b", "192.0.2.241"), poolLb("k", "192.0.2.12")];
    const w = winners(svcs, [], nodes);
    expect(w.map((x) => x.split(":")[1]).sort()).toEqual(["192.0.2.240", "192.0.2.241"]);
    // the winner going NotReady hands the address to another node
    const first = w.find((x) => x.endsWith(":192.0.2.240"))?.split(":")[0];
    const after = nodes.map((n) =>
      n.metadata?.name === first ? kNode(first ?? "", "192.0.2.99", false) : n,
    );
    const w2 = winners(svcs, [], after).filter((x) => x.endsWith(":192.0.2.240"));
    expect(w2).toHaveLength(1);
    expect(w2[0]).not.toContain(`${first}:`);
  });

  it("keeps externalTrafficPolicy Local on nodes with a ready endpoint, intersected over sharers", () => {
    const svcs = [poolLb("a", "192.0.2.240", true), poolLb("b", "192.0.2.240", true)];
    const slices = [
      slice("a", [
        { ip: "10.42.2.5", node: "n2", ready: true },
        { ip: "10.42.3.5", node: "n3", ready: true },
      ]),
      slice("b", [{ ip: "10.42.2.6", node: "n2", ready: true }], undefined, "default", "zzzzz"),
    ];
    expect(winners(svcs, slices, nodes)).toEqual(["n2:192.0.2.240"]);
  });

  it("announce() adds and removes only labelled addresses on lo", async () => {
    const calls: string[] = [];
    const exec: Exec = async (file, args) => {
      calls.push([file, ...args].join(" "));
      const addr_info = [
        { local: "127.0.0.1", label: "lo" },
        { local: "192.0.2.240", label: "lo:edgekube-lb" },
        { local: "192.0.2.250", label: "lo:edgekube-lb" },
      ];
      return { stdout: args[0] === "-json" ? JSON.stringify([{ addr_info }]) : "", stderr: "" };
    };
    expect(await announce(exec, ["192.0.2.240", "192.0.2.241"])).toEqual({
      added: ["192.0.2.241"],
      removed: ["192.0.2.250"],
    });
    expect(calls).toContain("ip addr replace 192.0.2.241/32 dev lo label lo:edgekube-lb");
    expect(calls).toContain("ip addr del 192.0.2.250/32 dev lo");
  });
});

describe("the cluster DNS address", () => {
  it("falls back to a labelled address on lo without the dummy driver, and reset removes only that", async () => {
    const calls: string[] = [];
    const exec: Exec = async (file, args) => {
      const cmd = [file, ...args].join(" ");
      calls.push(cmd);
      if (cmd.startsWith("ip link add")) throw new CommandError(cmd, 2, "Error: Unknown device type.\n");
      if (cmd === "ip link del edgekube-dns")
        throw new CommandError(cmd, 1, 'Cannot find device "edgekube-dns"\n');
      if (cmd === "ip -json addr show dev lo") {
        const addr_info = [
          { family: "inet", local: "127.0.0.1", prefixlen: 8, label: "lo" },
          { family: "inet", local: "10.43.0.10", prefixlen: 32, label: DNS_LO_LABEL },
          { family: "inet", local: "192.0.2.1", prefixlen: 32, label: "lo" },
        ];
        return { stdout: JSON.stringify([{ ifname: "lo", addr_info }]), stderr: "" };
      }
      return { stdout: "", stderr: "" };
    };
    expect(await ensureDnsAddress(exec, "10.43.0.10")).toBe("lo");
    expect(calls).toContain("ip addr replace 10.43.0.10/32 dev lo label lo:edgekube-dns");
    calls.length = 0;
    expect(await removeDnsAddress(exec)).toBe(true);
    expect(calls.filter((c) => c.startsWith("ip addr del"))).toEqual(["ip addr del 10.43.0.10/32 dev lo"]);
  });

  it("reports a missing capability in words", async () => {
    const exec: Exec = async (file, args) => {
      throw new CommandError([file, ...args].join(" "), 2, "RTNETLINK answers: Operation not permitted\n");
    };
    await expect(ensureDnsAddress(exec, "10.43.0.10")).rejects.toThrow(
      /needs CAP_NET_ADMIN \(run it as root\)/,
    );
  });
});

describe("NodeServices with a recording Exec", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("puts the DNS address on edgekube-dns, programs the rules, resyncs on change, answers DNS from the cache", async () => {
    const calls: { cmd: string; input?: string }[] = [];
    const exec: Exec = async (file, args, opts) => {
      calls.push({ cmd: [file, ...args].join(" "), ...(opts?.input ? { input: opts.input } : {}) });
      return { stdout: "", stderr: "" };
    };
    const dir = mkdtempSync(join(tmpdir(), "ek-svcwire-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "resolv.conf"), "nameserver 127.0.0.1\n");
    const cache = new FakeCache();
    cache.svcs = [service("web", "10.43.0.20"), service("db", "None")];
    cache.slices = [
      slice("web", [{ ip: "10.42.1.5", node: "n1", ready: true }]),
      slice("db", [{ ip: "10.42.1.8", node: "n1", ready: true }], undefined, "default", "fghij"),
    ];
    cache.myPods = [pod("u1"), pod("u8")];
    const local = new LocalPods();
    const svc = new NodeServices({
      ...node,
      serviceCIDR: "10.43.0.0/16",
      clusterDNS: "127.0.0.1",
      clusterDomain: "cluster.local",
      dnsPort: 0,
      resolvConfPath: join(dir, "resolv.conf"),
      cache,
      localPods: local,
      exec,
      debounceMs: 5,
    });
    cleanups.push(() => svc.stop());
    await svc.start();

    const cmds = calls.map((c) => c.cmd);
    expect(cmds.slice(0, 4)).toEqual([
      "nft --version",
      "ip link add edgekube-dns type dummy",
      "ip addr replace 127.0.0.1/32 dev edgekube-dns",
      "ip link set edgekube-dns up",
    ]);
    const scripts = () => calls.filter((c) => c.cmd === "nft -f -").map((c) => c.input ?? "");
    expect(scripts()).toHaveLength(1);
    // the pod behind 10.42.1.5 has not been seen running here: not served (stale slice)
    expect(scripts()[0]).not.toContain("dnat to 10.42.1.5:8080");

    local.observe("u1", { phase: "Running", podIP: "10.42.1.5" });
    await vi.waitFor(() => expect(scripts().at(-1)).toContain("dnat to 10.42.1.5:8080"));

    const r = new Resolver();
    r.setServers([`127.0.0.1:${svc.dns.ports().udp}`]);
    expect(await r.resolve4("web.default.svc.cluster.local")).toEqual(["10.43.0.20"]);
    // headless: its endpoint's pod is not running here yet → no address
    await expect(r.resolve4("db.default.svc.cluster.local")).rejects.toThrow();
    const s0 = svc.syncCount;
    local.observe("u8", { phase: "Running", podIP: "10.42.1.8" });
    expect(await r.resolve4("db.default.svc.cluster.local")).toEqual(["10.42.1.8"]);
    await vi.waitFor(() => expect(svc.syncCount).toBe(s0 + 1));

    const before = svc.syncCount;
    cache.slices = [slice("web", [{ ip: "10.42.2.7", node: "n2", ready: true }])];
    cache.changed();
    cache.changed();
    await vi.waitFor(() => expect(scripts().at(-1)).toContain("dnat to 10.42.2.7:8080"));
    expect(svc.syncCount).toBe(before + 1); // a burst is one sync
  });
});
