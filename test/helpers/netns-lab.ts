/**
 * NetnsLab: throwaway network namespaces for integration tests (root only).
 *
 * - Every namespace is named `ekt-<random>-<suffix>` and remembered, so cleanup() deletes
 *   exactly what this lab created, never anything by pattern.
 * - The underlay is a bridge in its own namespace (`…-lan`) with no uplink; "hosts" (nodes, an
 *   outside server) get a veth onto it and an address from a random /28 slice of
 *   198.51.100.0/24 (TEST-NET-2), so parallel test files never share addresses. Traffic
 *   therefore stays inside namespaces the test made.
 * - Helper servers (busybox httpd with a CGI that prints the client address) are child
 *   processes kept by pid and killed by pid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Exec, hostExec, netnsExec } from "../../src/cni/exec.js";

export class NetnsLab {
  readonly tag = randomBytes(3).toString("hex");
  /** first address of this lab's /28 slice of 198.51.100.0/24 */
  readonly base = 16 * (randomBytes(1)[0]! % 16);
  private readonly created: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly host = hostExec();
  private lanName: string | undefined;
  private cgiDir: string | undefined;

  name(suffix: string): string {
    return `ekt-${this.tag}-${suffix}`;
  }

  path(name: string): string {
    return `/run/netns/${name}`;
  }

  exec(name: string): Exec {
    return netnsExec(this.path(name));
  }

  /** Address `n` (1–14) of this lab's underlay slice. */
  underlayIp(n: number): string {
    if (n < 1 || n > 14) throw new Error(`underlay host number ${n} is outside 1–14`);
    return `198.51.100.${this.base + n}`;
  }

  async addNamespace(suffix: string): Promise<string> {
    const name = this.name(suffix);
    await this.host("ip", ["netns", "add", name]);
    this.created.push(name);
    await this.host("ip", ["-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  /** Deletes one namespace early (its links go with it). */
  async deleteNamespace(name: string): Promise<void> {
    const i = this.created.indexOf(name);
    if (i < 0) throw new Error(`namespace ${name} was not created by this lab`);
    await this.host("ip", ["netns", "del", name]);
    this.created.splice(i, 1);
  }

  private async lan(): Promise<string> {
    if (this.lanName) return this.lanName;
    const lan = await this.addNamespace("lan");
    await this.host("ip", ["-n", lan, "link", "add", "br0", "type", "bridge"]);
    await this.host("ip", ["-n", lan, "link", "set", "br0", "up"]);
    this.lanName = lan;
    return lan;
  }

  /** A namespace with `eth0` on the underlay at underlayIp(n) (MTU 1500, no default route). */
  async addHost(suffix: string, n: number): Promise<{ ns: string; ip: string }> {
    const lan = await this.lan();
    const ns = await this.addNamespace(suffix);
    const ip = this.underlayIp(n);
    const port = `u${n}`;
    await this.host("ip", [
      "-n",
      lan,
      "link",
      "add",
      port,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      ns,
    ]);
    await this.host("ip", ["-n", lan, "link", "set", port, "master", "br0", "up"]);
    await this.host("ip", ["-n", ns, "addr", "add", `${ip}/28`, "dev", "eth0"]);
    await this.host("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    return { ns, ip };
  }

  /** A temp dir removed at cleanup. */
  async tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `ekt-${this.tag}-`));
    this.dirs.push(d);
    return d;
  }

  /**
   * busybox httpd on port 8080 in `ns`; GET /cgi-bin/ip answers the client's address as the
   * server saw it (shows whether traffic was masqueraded). Resolves once it answers.
   */
  async startIpEcho(ns: string): Promise<void> {
    if (!this.cgiDir) {
      const d = await this.tempDir();
      await mkdir(join(d, "cgi-bin"));
      const script = join(d, "cgi-bin", "ip");
      await writeFile(
        script,
        '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n',
      );
      await chmod(script, 0o755);
      this.cgiDir = d;
    }
    const child = spawn(
      "ip",
      ["netns", "exec", ns, "busybox", "httpd", "-f", "-p", "8080", "-h", this.cgiDir],
      {
        stdio: "ignore",
      },
    );
    this.procs.push(child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await this.exec(ns)("busybox", ["timeout", "2", "wget", "-qO-", "http://127.0.0.1:8080/cgi-bin/ip"]);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`httpd in ${ns} did not come up`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) {
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once("exit", r));
        process.kill(p.pid, "SIGTERM");
        await exited;
      }
    }
    for (const name of this.created.reverse()) {
      await this.host("ip", ["netns", "del", name]).catch(() => undefined);
    }
    this.created.length = 0;
    for (const d of this.dirs) await rm(d, { recursive: true, force: true });
  }
}
