/**
 * Host-local IPAM on a real SQLite file: range, idempotence, durability across a restart,
 * crash recovery through reconcile, reuse after release, exhaustion and podCIDR changes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostLocalIpam, IpamExhaustedError } from "../../src/cni/ipam.js";

describe("HostLocalIpam", () => {
  let dir = "";
  let dbPath = "";
  const open: HostLocalIpam[] = [];

  function ipam(podCIDR = "10.42.7.0/24"): HostLocalIpam {
    const i = new HostLocalIpam({ dbPath, podCIDR });
    open.push(i);
    return i;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ekt-ipam-"));
    dbPath = join(dir, "ipam.db");
  });

  afterEach(async () => {
    for (const i of open.splice(0)) i.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("hands out .2 upwards, skipping network, gateway and broadcast", () => {
    const a = ipam("10.42.7.0/29");
    const got = ["a", "b", "c", "d", "e"].map((id) => a.allocate(id));
    expect(got.map((l) => l.ip)).toEqual(["10.42.7.2", "10.42.7.3", "10.42.7.4", "10.42.7.5", "10.42.7.6"]);
    expect(got[0]).toEqual({ containerId: "a", ip: "10.42.7.2", prefixLength: 29, gateway: "10.42.7.1" });
    expect(() => a.allocate("f")).toThrow(IpamExhaustedError);
    expect(() => a.allocate("f")).toThrow(/no free pod address in 10\.42\.7\.0\/29/);
  });

  it("gives a container the same address when asked twice", () => {
    const a = ipam();
    const first = a.allocate("c1");
    a.allocate("c2");
    expect(a.allocate("c1")).toEqual(first);
    expect(a.leases()).toHaveLength(2);
  });

  it("keeps leases across a restart and never hands out an address twice", () => {
    const a = ipam();
    const before = ["c1", "c2", "c3"].map((id) => a.allocate(id).ip);
    a.close();
    open.splice(open.indexOf(a), 1);
    const b = ipam();
    expect(b.leases().map((l) => l.ip)).toEqual(before);
    const after = ["c4", "c5"].map((id) => b.allocate(id).ip);
    const all = [...before, ...after];
    expect(new Set(all).size).toBe(all.length);
    expect(b.get("c2")?.ip).toBe(before[1]);
  });

  it("after a crash, reconcile frees the leases of containers that are gone", () => {
    // The "crashed" agent never released anything and never closed its handle; the restarted
    // one opens the same file while the old handle still exists, as after a kill -9.
    const crashed = ipam();
    for (const id of ["live1", "dead1", "live2", "dead2"]) crashed.allocate(id);
    const restarted = ipam();
    expect(restarted.reconcile(["live1", "live2", "unknown"]).sort()).toEqual(["dead1", "dead2"]);
    expect(restarted.leases().map((l) => l.containerId)).toEqual(["live1", "live2"]);
    expect(restarted.reconcile(["live1", "live2"])).toEqual([]);
    const live = restarted.leases().map((l) => l.ip);
    const fresh = ["n1", "n2", "n3"].map((id) => restarted.allocate(id).ip);
    expect(fresh.some((ip) => live.includes(ip))).toBe(false);
  });

  it("release is idempotent and released addresses are reused once the range wraps", () => {
    const a = ipam("10.42.7.0/29");
    for (const id of ["a", "b", "c", "d", "e"]) a.allocate(id);
    expect(a.release("c")).toBe(true);
    expect(a.release("c")).toBe(false);
    expect(a.release("never")).toBe(false);
    expect(a.allocate("f").ip).toBe("10.42.7.4");
    a.release("a");
    a.release("b");
    // round-robin: continues after the last address handed out (.4), so .5/.6 are busy → .2
    expect(a.allocate("g").ip).toBe("10.42.7.2");
  });

  it("does not reuse a just-released address while others are free", () => {
    const a = ipam();
    const x = a.allocate("x").ip;
    a.release("x");
    expect(a.allocate("y").ip).not.toBe(x);
  });

  it("drops leases outside a changed podCIDR", () => {
    const a = ipam("10.42.7.0/24");
    a.allocate("old");
    a.close();
    open.splice(open.indexOf(a), 1);
    const b = ipam("10.42.9.0/24");
    expect(b.leases()).toEqual([]);
    expect(b.allocate("new").ip).toBe("10.42.9.2");
  });

  it("rejects a subnet too small for pods", () => {
    expect(() => ipam("10.42.7.0/31")).toThrow(/too small/);
  });
});
