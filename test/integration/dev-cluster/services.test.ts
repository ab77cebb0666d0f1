/**
 * Services on a real two-node dev cluster (agents in their own network namespaces with their
 * own dockerd, nft rules and cluster DNS on the edgekube-dns link): DNS from pods (the pods'
 * resolv.conf, service and headless pod records, search-path short names), ClusterIP from pods
 * on every node and from the nodes themselves, spread over backends on both nodes, NodePort and LoadBalancer from a
 * client namespace outside the cluster, two LoadBalancers sharing the node addresses on
 * different ports, a colliding one left pending, a backend turning unready dropping out, and
 * everything still answering with the hub stopped, also after an offline agent restart, and
 * this node's endpoint of a pod that did not come back after that restart not served (neither
 * by the proxy nor by DNS, nor counted by the health check). A LoadBalancer with
 * externalTrafficPolicy Local gets a healthCheckNodePort that every node answers from outside
 * the way kube-proxy does, from the agent's cache when the hub is down.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { addressPlan } from "../../../scripts/lib/dev-cluster/state.js";
import { addNodeNamespace, deleteNetns } from "../../../scripts/lib/dev-cluster/topology.js";
import { DevClusterFixture, type PodInfo } from "../../helpers/dev-cluster-fixture.js";
import { hasDocker, hasRoot, need } from "../../helpers/prereq.js";

const poll = { timeout: 60_000, interval: 500 };
/** busybox httpd answering `text` on 8080; /tmp/ready feeds the readiness probe */
const serve = (text: string) =>
  `mkdir -p /tmp/www && echo ${text} > /tmp/www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /tmp/www`;

interface ApiService {
  spec: { clusterIP: string; ports: { nodePort?: number }[]; healthCheckNodePort?: number };
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}

describe.skipIf(!need(hasRoot(), hasDocker()))("services on a dev cluster", () => {
  const f = new DevClusterFixture();
  f.keepFailures();
  const clientNs = `ekt${f.tag}-cl`;
  let web1: PodInfo;
  let web2: PodInfo;
  let c1: PodInfo;
  let c2: PodInfo;
  let clusterIP = "";
  let nodePort = 0;
  let nodeHealthPort = 0;
  let nodeIPs: string[] = [];

  const api = () => f.cluster.client();
  const running = (name: string): Promise<PodInfo> => f.waitRunning(name, poll);
  /** the web pods' image: a per-test tag of the busybox image, so one node can lose it alone */
  const webImage = `edgekube/busybox:web-${f.tag}`;
  const createPod = (name: string, node: string, script: string, labels: Record<string, string>) =>
    api().post("/api/v1/namespaces/default/pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: labels.app === "web" ? webImage : f.image,
            imagePullPolicy: "Never",
            command: ["sh", "-c", script],
            readinessProbe: {
              exec: { command: ["cat", "/tmp/ready"] },
              periodSeconds: 1,
              failureThreshold: 1,
            },
          },
        ],
      },
    });
  const createService = (name: string, type: string, port: number, extra: object = {}, spec: object = {}) =>
    api().post("/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name },
      spec: {
        type,
        selector: { app: "web" },
        ports: [{ port, targetPort: 8080, protocol: "TCP", ...extra }],
        ...spec,
      },
    });
  const getService = (name: string) => api().get<ApiService>(`/api/v1/namespaces/default/services/${name}`);
  /** one answer from ip:port seen from a pod, or "" when the connection failed */
  const fromPod = (p: PodInfo, ip: string, port: number) => {
    try {
      return f.exec(p, ["timeout", "3", "wget", "-qO-", `http://${ip}:${port}/`], 10_000).trim();
    } catch {
      return "";
    }
  };
  /** GET / from a network namespace under /run/netns with busybox wget ("" on failure) */
  const fromNetns = (netns: string, ip: string, port: number) => {
    try {
      const args = [`--net=/run/netns/${netns}`, "busybox", "timeout", "3", "busybox", "wget", "-qO-"];
      return execFileSync("nsenter", [...args, `http://${ip}:${port}/`], {
        encoding: "utf8",
        input: "",
        timeout: 10_000,
      }).trim();
    } catch {
      return "";
    }
  };
  /** the same from the client namespace outside the cluster */
  const fromOutside = (ip: string, port: number) => fromNetns(clientNs, ip, port);
  /** GET / on a health check port from outside: the status line's code and, for a 200, the body */
  const healthFromOutside = (ip: string, port: number): { status: number; body: string } => {
    const args = [`--net=/run/netns/${clientNs}`, "busybox", "timeout", "3", "busybox", "wget", "-S", "-qO-"];
    try {
      const out = execFileSync("nsenter", [...args, `http://${ip}:${port}/`], {
        encoding: "utf8",
        input: "",
        timeout: 10_000,
        stdio: ["pipe", "pipe", "pipe"],
      });
      return { status: 200, body: out };
    } catch (err) {
      // busybox wget fails on a 503 and names it: "server returned error: HTTP/1.1 503 …"
      const m = /HTTP\/1\.1 (\d{3})/.exec(String((err as { stderr?: string }).stderr ?? ""));
      return { status: m ? Number(m[1]) : 0, body: "" };
    }
  };
  /** the same from a node's own network namespace (the host side of a device) */
  const fromNode = (node: string, ip: string, port: number) =>
    fromNetns(f.cluster.node(node).netns, ip, port);
  /** the node's service rules (table ip edgekube-lb) */
  const nodeNft = (node: string) =>
    execFileSync(
      "nsenter",
      [`--net=/run/netns/${f.cluster.node(node).netns}`, "nft", "list", "table", "ip", "edgekube-lb"],
      {
        encoding: "utf8",
      },
    );
  /** conntrack entries of VXLAN packets a node sent (UDP to 8472): original sport, reply dport */
  const vxlanConntrack = (node: string) =>
    execFileSync(
      "nsenter",
      [`--net=/run/netns/${f.cluster.node(node).netns}`, "cat", "/proc/net/nf_conntrack"],
      {
        encoding: "utf8",
      },
    )
      .split("\n")
      .map((line) => {
        const all = (k: string) => [...line.matchAll(new RegExp(` ${k}=(\\d+)`, "g"))].map((m) => m[1]);
        return { line, udp: / udp /.test(line), sport: all("sport"), dport: all("dport") };
      })
      .filter((c) => c.udp && c.dport[0] === "8472");
  /** answers of `n` connections (failed ones dropped) */
  const answers = (n: number, one: () => string) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = one();
      if (a) out.push(a);
    }
    return out;
  };

  beforeAll(async () => {
    await f.up(2);
    const s = f.cluster.state;
    nodeIPs = s.nodes.map((n) => n.ip);
    for (const n of s.nodes) f.cluster.docker(n, ["tag", f.image, webImage]);
    addNodeNamespace({
      lanNetns: s.lanNetns ?? "",
      netns: clientNs,
      lanPort: "ucl",
      ip: addressPlan(s.underlay).nodeIP(19),
      prefixLength: s.prefixLength,
      deadEndIP: s.deadEndIP,
    });
    await createPod("web-1", "node1", serve("web-1"), { app: "web" });
    await createPod("web-2", "node2", serve("web-2"), { app: "web" });
    await createPod("c1", "node1", "touch /tmp/ready; sleep 100000", { app: "client" });
    await createPod("c2", "node2", "touch /tmp/ready; sleep 100000", { app: "client" });
    await createService("web", "ClusterIP", 80);
    await createService("web-np", "NodePort", 80);
    await createService("web-lb", "LoadBalancer", 8081);
    await createService("alt-lb", "LoadBalancer", 8082);
    await createService("web-h", "ClusterIP", 80, {}, { clusterIP: "None" });
    await createService("web-local", "LoadBalancer", 8083, {}, { externalTrafficPolicy: "Local" });
    [web1, web2, c1, c2] = await Promise.all([
      running("web-1"),
      running("web-2"),
      running("c1"),
      running("c2"),
    ]);
    clusterIP = (await getService("web")).spec.clusterIP;
    nodeHealthPort = (await getService("web-local")).spec.healthCheckNodePort ?? 0;
    nodePort = (await getService("web-np")).spec.ports[0]?.nodePort ?? 0;
  }, 240_000);

  afterAll(async () => {
    deleteNetns(clientNs);
    await f.down();
  }, 120_000);

  it("answers cluster DNS from pods on every node", async () => {
    for (const c of [c1, c2]) {
      await vi.waitFor(() => {
        const out = f.exec(c, ["nslookup", "web.default.svc.cluster.local"]);
        expect(out).toContain(clusterIP);
      }, poll);
      expect(() => f.exec(c, ["nslookup", "nope.default.svc.cluster.local"])).toThrow();
      // headless → the pods' own addresses, on both nodes
      await vi.waitFor(() => {
        const out = f.exec(c, ["nslookup", "web-h.default.svc.cluster.local"]);
        expect(out).toContain(web1.ip);
        expect(out).toContain(web2.ip);
      }, poll);
      // the pod's resolv.conf, line for line what the kubelet writes for ClusterFirst (Docker
      // puts search before nameserver; resolvers do not care about the order)
      const conf = f
        .exec(c, ["cat", "/etc/resolv.conf"])
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))
        .sort();
      expect(conf).toEqual([
        "nameserver 10.43.0.10",
        "options ndots:5",
        "search default.svc.cluster.local svc.cluster.local cluster.local",
      ]);
      // which is what makes the short name work: `web` → web.default.svc.cluster.local
      expect(answers(4, () => fromPod(c, "web", 80)).length).toBeGreaterThan(0);
    }
  });

  it("reaches the ClusterIP from every node's own namespace, on backends of both nodes", async () => {
    for (const n of ["node1", "node2"]) {
      await vi.waitFor(() => {
        expect(new Set(answers(12, () => fromNode(n, clusterIP, 80)))).toEqual(new Set(["web-1", "web-2"]));
      }, poll);
      // Those connections were marked for masquerade (a node address is outside the pod
      // network) and half of them crossed the overlay. The VXLAN packets carrying them (UDP
      // 8472, which inherit the inner packet's mark) must keep their source port: they are
      // untracked (src/cni/masquerade.ts), and an untracked packet is never NATed, so
      // `masquerade fully-random` cannot touch them whatever their mark. A conntrack entry
      // for them here would mean they were tracked, i.e. NAT-able again.
      expect(vxlanConntrack(n)).toEqual([]);
    }
  }, 180_000);

  it("reaches the ClusterIP from pods on every node, spread across backends on both nodes", async () => {
    expect([web1.node, web2.node]).toEqual(["node1", "node2"]);
    for (const c of [c1, c2]) {
      await vi.waitFor(() => {
        expect(new Set(answers(12, () => fromPod(c, clusterIP, 80)))).toEqual(new Set(["web-1", "web-2"]));
      }, poll);
    }
  }, 180_000);

  it("serves NodePort and LoadBalancer traffic from outside the cluster; two LoadBalancers share the node addresses", async () => {
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    await vi.waitFor(async () => {
      expect((await getService("web-lb")).status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(nodeIPs);
      expect((await getService("alt-lb")).status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(nodeIPs);
    }, poll);
    for (const ip of nodeIPs) {
      for (const port of [nodePort, 8081, 8082]) {
        await vi.waitFor(() => expect(fromOutside(ip, port)).toMatch(/^web-[12]$/), poll);
      }
    }
  }, 180_000);

  it("answers a Local LoadBalancer's healthCheckNodePort on every node as kube-proxy does", async () => {
    const hc = (await getService("web-local")).spec.healthCheckNodePort ?? 0;
    expect(hc).toBeGreaterThanOrEqual(30000);
    expect(hc).toBeLessThanOrEqual(32767);
    for (const ip of nodeIPs) {
      // each node has one ready backend of its own (web-1 on node1, web-2 on node2)
      await vi.waitFor(() => {
        const r = healthFromOutside(ip, hc);
        expect(r.status).toBe(200);
        expect(r.body).toBe(
          '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web-local"\n\t},\n\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}',
        );
      }, poll);
    }
  });

  it("leaves a LoadBalancer on a taken port pending with a Warning, and does not serve it", async () => {
    await createService("clash-lb", "LoadBalancer", 8081, { targetPort: 9999 });
    await vi.waitFor(async () => {
      const ev = await api().get<{ items: { reason: string; type: string; message: string }[] }>(
        "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dclash-lb",
      );
      expect(ev.items.map((e) => `${e.type} ${e.reason}`)).toContain("Warning PortUnavailable");
    }, poll);
    expect((await getService("clash-lb")).status?.loadBalancer?.ingress ?? []).toEqual([]);
    // port 8081 still belongs to web-lb (clash-lb would send it to 9999, where nothing listens)
    expect(fromOutside(nodeIPs[0] ?? "", 8081)).toMatch(/^web-[12]$/);
  }, 120_000);

  it("drops a backend that turns unready, and takes it back when ready again", async () => {
    f.exec(web2, ["rm", "/tmp/ready"]);
    await vi.waitFor(() => {
      expect(new Set(answers(8, () => fromPod(c1, clusterIP, 80)))).toEqual(new Set(["web-1"]));
    }, poll);
    f.exec(web2, ["touch", "/tmp/ready"]);
    await vi.waitFor(() => {
      expect(answers(12, () => fromPod(c1, clusterIP, 80))).toContain("web-2");
    }, poll);
  }, 180_000);

  it("keeps DNS, ClusterIP and LoadBalancer answering with the hub stopped, also after an offline agent restart", async () => {
    await f.cluster.stopHub();
    expect(f.exec(c2, ["nslookup", "web.default.svc.cluster.local"])).toContain(clusterIP);
    await vi.waitFor(() => expect(fromPod(c2, clusterIP, 80)).toMatch(/^web-[12]$/), poll);
    await vi.waitFor(() => expect(fromOutside(nodeIPs[1] ?? "", 8082)).toMatch(/^web-[12]$/), poll);

    // a connected agent with pods ends on SIGTERM (a systemd stop), not by the fixture's SIGKILL
    expect(await f.cluster.stopAgent("node1")).toBe("exited");
    await f.cluster.startAgent("node1"); // `run` from its cache; the hub is still down
    // the restarted agent's first rules already hold its own running pods' endpoints (LocalPods
    // seeded from Docker before that sync, instead of after the pod manager's first reports)
    expect(f.cluster.agentLog("node1")).toMatch(
      /"pods":2,"msg":"services start with the pods that kept running"/,
    );
    expect(nodeNft("node1")).toContain(web1.ip);
    await vi.waitFor(
      () => expect(f.exec(c1, ["nslookup", "web.default.svc.cluster.local"])).toContain(clusterIP),
      poll,
    );
    await vi.waitFor(() => {
      expect(new Set(answers(12, () => fromPod(c1, clusterIP, 80)))).toEqual(new Set(["web-1", "web-2"]));
    }, poll);
    await vi.waitFor(() => expect(fromOutside(nodeIPs[0] ?? "", 8081)).toMatch(/^web-[12]$/), poll);
  }, 240_000);

  it("after an offline restart, does not serve this node's endpoint whose pod did not come back (stale EndpointSlice)", async () => {
    // hub still down: the cached EndpointSlice keeps saying web-1 is ready
    const n1 = f.cluster.node("node1");
    // restarted while the hub was down, it still ends on SIGTERM
    expect(await f.cluster.stopAgent("node1")).toBe("exited");
    const ids = f.cluster
      .docker(n1, ["ps", "-aq", "--filter", `label=io.kubernetes.pod.uid=${web1.uid}`])
      .trim()
      .split("\n")
      .filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    f.cluster.docker(n1, ["rm", "-f", ...ids]);
    // and it cannot come back: its image tag is gone and imagePullPolicy is Never (no pull)
    f.cluster.docker(n1, ["rmi", webImage]);
    await f.cluster.startAgent("node1");
    await vi.waitFor(() => {
      // every connection answers, all from web-2: none is sent to web-1's dead address
      expect(answers(12, () => fromPod(c1, clusterIP, 80))).toEqual(Array(12).fill("web-2"));
    }, poll);
    // DNS agrees: the headless name no longer lists web-1's dead address
    const out = f.exec(c1, ["nslookup", "web-h.default.svc.cluster.local"]);
    expect(out).toContain(web2.ip);
    expect(out).not.toContain(web1.ip);
    // and so does the health check: node1 has no local endpoint of web-local any more, node2 has
    // (both answered from the agents' caches: the hub is still down)
    const hc = nodeHealthPort;
    await vi.waitFor(() => expect(healthFromOutside(nodeIPs[0] ?? "", hc).status).toBe(503), poll);
    expect(healthFromOutside(nodeIPs[1] ?? "", hc).status).toBe(200);
  }, 240_000);
});
