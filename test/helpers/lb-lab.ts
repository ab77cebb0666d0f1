/**
 * A one-node service lab on top of NetnsLab: a "node" namespace with the real overlay bridge and
 * pod wiring (src/cni), pod namespaces running busybox httpd with distinct index files, and an
 * outside client namespace on the underlay that routes the service CIDR via the node.
 * Servers are child processes kept by pid and killed by pid; everything else goes with the lab.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Exec } from "../../src/cni/exec.js";
import { HostLocalIpam } from "../../src/cni/ipam.js";
import { VxlanOverlay } from "../../src/cni/overlay.js";
import { PodNetwork } from "../../src/cni/pod-network.js";
import { NetnsLab } from "./netns-lab.js";

export interface LabPod {
  key: string;
  ns: string;
  ip: string;
  exec: Exec;
}

export class LbLab {
  readonly lab = new NetnsLab();
  node = { ns: "", ip: "", exec: undefined as unknown as Exec };
  client = { ns: "", ip: "", exec: undefined as unknown as Exec };
  private ipam: HostLocalIpam | undefined;
  private pods: PodNetwork | undefined;
  private readonly procs: ChildProcess[] = [];

  /** Node at underlay .1 with podCIDR 10.42.<subnet>.0/24; client at underlay .2. */
  async setup(subnet: number): Promise<void> {
    const n = await this.lab.addHost("node", 1);
    this.node = { ...n, exec: this.lab.exec(n.ns) };
    const overlay = new VxlanOverlay(
      { nodeName: "node1", nodeIP: n.ip, podCIDR: `10.42.${subnet}.0/24`, clusterCIDR: "10.42.0.0/16" },
      { exec: this.node.exec },
    );
    const setup = await overlay.setupNode();
    this.ipam = new HostLocalIpam({
      dbPath: join(await this.lab.tempDir(), "ipam.db"),
      podCIDR: `10.42.${subnet}.0/24`,
    });
    this.pods = new PodNetwork({ exec: this.node.exec, ipam: this.ipam, mtu: setup.mtu });
    const c = await this.lab.addHost("client", 2);
    this.client = { ...c, exec: this.lab.exec(c.ns) };
    await this.client.exec("ip", ["route", "add", "10.43.0.0/16", "via", n.ip]);
  }

  /** A pod namespace wired to the node, serving `body` on port 80 and its client IP on 8080. */
  async addPod(key: string, body: string): Promise<LabPod> {
    const ns = await this.lab.addNamespace(key);
    const wired = await this.pods!.wirePod({
      netnsPath: this.lab.path(ns),
      containerId: `ctr-${this.lab.tag}-${key}`,
    });
    const dir = await this.lab.tempDir();
    await writeFile(join(dir, "index.html"), `${body}\n`);
    const child = spawn("ip", ["netns", "exec", ns, "/bin/busybox", "httpd", "-f", "-p", "80", "-h", dir], {
      stdio: "ignore",
    });
    this.procs.push(child);
    await this.lab.startIpEcho(ns);
    const exec = this.lab.exec(ns);
    await waitUntil(() => exec("busybox", ["timeout", "2", "wget", "-qO-", "http://127.0.0.1:80/"]), 10_000);
    return { key, ns, ip: wired.ip, exec };
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) {
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once("exit", r));
        process.kill(p.pid, "SIGTERM");
        await exited;
      }
    }
    this.ipam?.close();
    await this.lab.cleanup();
  }
}

/** One HTTP GET with busybox wget from `from`; resolves with the trimmed body. */
export async function httpGet(from: Exec, url: string, timeoutSec = 3): Promise<string> {
  const r = await from("busybox", ["timeout", String(timeoutSec), "wget", "-qO-", url]);
  return r.stdout.trim().replace(/^\[::ffff:(.*)\]$/, "$1");
}

async function waitUntil(fn: () => Promise<unknown>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
