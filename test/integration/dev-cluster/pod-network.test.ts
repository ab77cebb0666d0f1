/**
 * The pod network on a real multi-node dev cluster (scripts/dev-cluster's DevCluster): a hub on
 * the host, agents in their own network namespaces with their own dockerd, pods created through
 * the hub's API, traffic between real containers over the VXLAN overlay.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isOurs } from "../../../scripts/lib/dev-cluster/procs.js";
import { linkExists } from "../../../scripts/lib/dev-cluster/topology.js";
import { HostLocalIpam } from "../../../src/cni/ipam.js";
import { hostVethName } from "../../../src/cni/pod-network.js";
import { DevClusterFixture, type PodInfo } from "../../helpers/dev-cluster-fixture.js";
import { hasDocker, hasRoot, need } from "../../helpers/prereq.js";

const TEN_MIB = 10 * 1024 * 1024;
/** serves `text` to every connection on `port`, forever */
const serve = (port: number, text: string) => `while true; do echo ${text} | nc -l -p ${port}; done`;
/**
 * counts the bytes of each connection on `port` into /tmp/got. busybox nc hangs up when its
 * stdin ends, so the receiver's stdin is a FIFO opened read-write: it never ends.
 */
const countBytes = (port: number) =>
  `mkfifo /tmp/f; while true; do nc -l -p ${port} <>/tmp/f | wc -c > /tmp/got.tmp && mv /tmp/got.tmp /tmp/got; done`;
const poll = { timeout: 60_000, interval: 300 };
/**
 * a process's start time (field 22 of /proc/PID/stat), or undefined once it is gone or a zombie
 * (an exited process whose parent, perhaps pid 1, has not reaped it yet)
 */
function startTime(pid: string): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

describe.skipIf(!need(hasRoot(), hasDocker()))("pod network on a dev cluster", () => {
  const f = new DevClusterFixture();
  let a1: PodInfo; // node1
  let b1: PodInfo; // node1
  let a2: PodInfo; // node2

  const running = (name: string): Promise<PodInfo> => f.waitRunning(name, poll);
  const fetchText = (from: PodInfo, to: PodInfo, port: number) =>
    f.exec(from, ["nc", "-w", "3", to.ip, String(port)]).trim();

  beforeAll(async () => {
    await f.up(2);
    await f.createPod("a1", "node1", serve(9000, "from-a1"));
    await f.createPod("b1", "node1", serve(9000, "from-b1"));
    await f.createPod("a2", "node2", `${serve(9000, "from-a2")} & ${countBytes(9001)}`);
    [a1, b1, a2] = await Promise.all([running("a1"), running("b1"), running("a2")]);
  }, 180_000);

  afterAll(async () => {
    await f.down();
  }, 120_000);

  it("gives pods addresses from their node's podCIDR and programs every peer", async () => {
    expect(new Set([a1.ip, b1.ip, a2.ip]).size).toBe(3);
    const n1 = await f.cluster.client().get<{ spec: { podCIDR: string } }>("/api/v1/nodes/node1");
    const n2 = await f.cluster.client().get<{ spec: { podCIDR: string } }>("/api/v1/nodes/node2");
    expect(a1.ip.startsWith(n1.spec.podCIDR.replace(/0\/24$/, ""))).toBe(true);
    expect(a2.ip.startsWith(n2.spec.podCIDR.replace(/0\/24$/, ""))).toBe(true);
    expect(f.overlay("node1").routes).toEqual([n2.spec.podCIDR]);
    expect(f.overlay("node2").routes).toEqual([n1.spec.podCIDR]);
  });

  it("carries TCP between pods on different nodes, 10 MiB intact", async () => {
    expect(fetchText(a1, a2, 9000)).toBe("from-a2");
    expect(fetchText(a2, a1, 9000)).toBe("from-a1");
    f.exec(a1, ["sh", "-c", `head -c ${TEN_MIB} /dev/zero | nc -w 5 ${a2.ip} 9001`], 60_000);
    await vi.waitFor(() => expect(Number(f.exec(a2, ["cat", "/tmp/got"]).trim())).toBe(TEN_MIB), poll);
  });

  it("carries traffic between pods on the same node", () => {
    expect(fetchText(b1, a1, 9000)).toBe("from-a1");
    expect(fetchText(a1, b1, 9000)).toBe("from-b1");
  });

  it("lets a pod reach another node's underlay address", () => {
    const node2 = f.cluster.node("node2");
    expect(f.exec(a1, ["busybox", "ping", "-c", "1", "-W", "3", node2.ip])).toContain("1 packets received");
  });

  it("programs a node that joins on every peer, and removes it when it leaves", async () => {
    await f.cluster.addNode(3);
    await f.cluster.waitNodeReady("node3");
    const n3 = await f.cluster
      .client()
      .get<{ spec: { podCIDR: string }; metadata: { annotations: Record<string, string> } }>(
        "/api/v1/nodes/node3",
      );
    const vtep = (
      JSON.parse(n3.metadata.annotations["flannel.alpha.coreos.com/backend-data"] ?? "{}") as {
        VtepMAC: string;
      }
    ).VtepMAC;
    const ip3 = f.cluster.node("node3").ip;
    for (const peer of ["node1", "node2"]) {
      await vi.waitFor(() => {
        const o = f.overlay(peer);
        expect(o.routes).toContain(n3.spec.podCIDR);
        expect(o.neighs).toContain(`${n3.spec.podCIDR.replace(/\/24$/, "")} ${vtep}`);
        expect(o.fdb).toContain(`${vtep} ${ip3}`);
        // one route, one ARP and one FDB entry per peer, nothing else
        expect(o.routes).toHaveLength(2);
        expect(o.neighs).toHaveLength(2);
        expect(o.fdb).toHaveLength(2);
      }, poll);
    }
    // and the new node programs every existing peer
    const want = await Promise.all(
      ["node1", "node2"].map(async (name) => {
        const n = await f.cluster
          .client()
          .get<{ spec: { podCIDR: string }; metadata: { annotations: Record<string, string> } }>(
            `/api/v1/nodes/${name}`,
          );
        const mac = (
          JSON.parse(n.metadata.annotations["flannel.alpha.coreos.com/backend-data"] ?? "{}") as {
            VtepMAC: string;
          }
        ).VtepMAC;
        return { cidr: n.spec.podCIDR, mac, ip: f.cluster.node(name).ip };
      }),
    );
    await vi.waitFor(() => {
      const o = f.overlay("node3");
      expect([...o.routes].sort()).toEqual(want.map((w) => w.cidr).sort());
      expect([...o.neighs].sort()).toEqual(want.map((w) => `${w.cidr.replace(/\/24$/, "")} ${w.mac}`).sort());
      expect([...o.fdb].sort()).toEqual(want.map((w) => `${w.mac} ${w.ip}`).sort());
    }, poll);
    await f.createPod("a3", "node3", serve(9000, "from-a3"));
    const a3 = await running("a3");
    expect(fetchText(a1, a3, 9000)).toBe("from-a3");
    await f.deletePod("a3");
    await vi.waitFor(async () => expect(await f.getPod("a3")).toBeUndefined(), poll);

    await f.cluster.removeNode("node3");
    for (const peer of ["node1", "node2"]) {
      await vi.waitFor(() => {
        const o = f.overlay(peer);
        expect(o.routes).not.toContain(n3.spec.podCIDR);
        expect(o.fdb.some((e) => e.includes(ip3))).toBe(false);
        expect(o.neighs.some((e) => e.includes(vtep))).toBe(false);
      }, poll);
    }
  }, 180_000);

  it("keeps pods connected across an agent restart and a hub outage", async () => {
    const node1 = f.cluster.node("node1");
    const before = f.overlay("node1");
    expect(before.routes).toHaveLength(1);
    await f.cluster.stopAgent("node1");
    expect(fetchText(a2, a1, 9000)).toBe("from-a1");
    await f.cluster.stopHub();
    // Lose the kernel state too (as after a reboot): flannel.1 and with it every peer route,
    // ARP and FDB entry. The restarted agent can only rebuild them from its own cache.
    execFileSync("ip", ["-n", node1.netns, "link", "del", "flannel.1"]);
    expect(linkExists("flannel.1", node1.netns)).toBe(false);
    // offline restart: the agent rebuilds from its cache without the hub
    await f.cluster.startAgent("node1");
    await vi.waitFor(() => expect(f.overlay("node1")).toEqual(before), poll);
    expect(fetchText(a2, a1, 9000)).toBe("from-a1");
    expect(fetchText(a1, a2, 9000)).toBe("from-a2");
    await f.cluster.startHub();
    await vi.waitFor(async () => {
      const p = await f.getPod("a1");
      expect(p?.status?.podIP).toBe(a1.ip);
      expect(p?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }, poll);
    expect(fetchText(a1, a2, 9000)).toBe("from-a2");
  }, 180_000);

  it("releases a deleted pod's address and wires its successor without conflicts", async () => {
    const node1 = f.cluster.node("node1");
    await f.deletePod("b1");
    await vi.waitFor(async () => expect(await f.getPod("b1")).toBeUndefined(), poll);
    await vi.waitFor(() => {
      expect(linkExists(hostVethName(b1.uid), node1.netns)).toBe(false);
      const ipam = new HostLocalIpam({
        dbPath: join(node1.dir, "agent", "ipam.db"),
        podCIDR: `${b1.ip.replace(/\.\d+$/, "")}.0/24`,
      });
      try {
        expect(ipam.get(b1.uid)).toBeUndefined();
        expect(ipam.get(a1.uid)?.ip).toBe(a1.ip);
      } finally {
        ipam.close();
      }
    }, poll);
    await f.createPod("c1", "node1", serve(9000, "from-c1"));
    await f.createPod("d1", "node1", serve(9000, "from-d1"));
    const [c1, d1] = await Promise.all([running("c1"), running("d1")]);
    expect(new Set([a1.ip, c1.ip, d1.ip]).size).toBe(3);
    expect(fetchText(a2, c1, 9000)).toBe("from-c1");
    expect(fetchText(a2, d1, 9000)).toBe("from-d1");
    expect(fetchText(c1, a1, 9000)).toBe("from-a1");
  }, 120_000);

  it("edge-agent reset removes the node's pods, overlay, rules and (asked to) its data dir", async () => {
    const n2 = f.cluster.node("node2");
    await f.cluster.stopAgent("node2");
    expect(f.cluster.docker(n2, ["ps", "-aq"]).trim()).not.toBe("");
    const out = execFileSync(
      "nsenter",
      [
        `--net=/run/netns/${n2.netns}`,
        "node",
        f.cluster.state.launcher,
        "agent",
        "reset",
        "--data-dir",
        join(n2.dir, "agent"),
        "--delete-data",
      ],
      { encoding: "utf8", env: { ...process.env, DOCKER_HOST: `unix://${n2.dockerSock}` } },
    );
    expect(out).toContain("removed 1 pod(s)");
    expect(out).toMatch(/links \[.*cni0, flannel\.1\]/);
    expect(f.cluster.docker(n2, ["ps", "-aq"]).trim()).toBe("");
    const links = execFileSync("ip", ["-n", n2.netns, "-br", "link"], { encoding: "utf8" });
    expect(links).not.toMatch(/flannel\.1|cni0|veth/);
    const rules = execFileSync("nsenter", [`--net=/run/netns/${n2.netns}`, "nft", "list", "ruleset"], {
      encoding: "utf8",
    });
    expect(rules).not.toContain("edgekube");
    expect(existsSync(join(n2.dir, "agent"))).toBe(false);
  }, 120_000);

  it("leaves nothing behind on down: namespaces, links, processes, containers, mounts", async () => {
    const s = f.cluster.state;
    const procs = [s.hub, ...s.nodes.flatMap((n) => [n.agent, n.dockerd])].filter((p) => p !== undefined);
    // every process living in the cluster's namespaces (dockerd, containerd, shims, pod
    // processes, agents), identified by pid and start time so a reused pid is not mistaken
    const namespaces = [s.lanNetns ?? "", ...s.nodes.map((n) => n.netns)];
    const inNamespaces = namespaces.flatMap((ns) =>
      execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean)
        .map((pid) => ({ pid, start: startTime(pid) })),
    );
    const containers = s.nodes.flatMap((n) =>
      f.cluster.docker(n, ["ps", "-aq", "--no-trunc"]).split("\n").filter(Boolean),
    );
    expect(inNamespaces.length).toBeGreaterThan(procs.length);
    expect(containers.length).toBeGreaterThan(0);
    await f.cluster.down();
    const netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    expect(netns).not.toContain(s.prefix);
    expect(linkExists(s.hostLink ?? "")).toBe(false);
    expect(execFileSync("ip", ["-br", "link"], { encoding: "utf8" })).not.toContain(s.prefix);
    for (const p of procs) expect(isOurs(p)).toBe(false);
    for (const p of inNamespaces) expect(startTime(p.pid), `pid ${p.pid}`).not.toBe(p.start);
    // no process is left in a container's cgroup
    const cgroups = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return readFileSync(`/proc/${d}/cgroup`, "utf8");
        } catch {
          return "";
        }
      })
      .join("");
    for (const id of containers) expect(cgroups).not.toContain(id);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toContain(s.root);
    for (const ns of namespaces) expect(mounts).not.toContain(`/run/netns/${ns}`);
    for (const id of containers) expect(mounts).not.toContain(id);
    expect(existsSync(s.root)).toBe(false);
  }, 120_000);
});
