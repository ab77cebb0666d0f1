/**
 * IpRoute's edge: JSON narrowing, "not found" as an answer, and errors that name the command
 * and say what to do (a recording fake Exec stands in for iproute2).
 */
import { describe, expect, it } from "vitest";
import { CommandError, commandLine, type Exec } from "../../src/cni/exec.js";
import { IpRoute, VxlanUnsupportedError } from "../../src/cni/iproute.js";

function fakeExec(answer: (file: string, args: readonly string[]) => string | CommandError): {
  exec: Exec;
  calls: string[];
} {
  const calls: string[] = [];
  const exec: Exec = async (file, args) => {
    calls.push(commandLine(file, args));
    const a = answer(file, args);
    if (a instanceof CommandError) throw a;
    return { stdout: a, stderr: "" };
  };
  return { exec, calls };
}

describe("IpRoute", () => {
  it("turns a kernel without vxlan into an error that says how to fix it", async () => {
    const { exec, calls } = fakeExec(
      (f, a) => new CommandError(commandLine(f, a), 2, "Error: Unknown device type.\n"),
    );
    const err = await new IpRoute(exec)
      .addVxlan({ name: "flannel.1", vni: 1, local: "198.51.100.2", dev: "eth0", port: 8472 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VxlanUnsupportedError);
    expect((err as Error).message).toMatch(
      /the kernel has no vxlan support: load the vxlan module \(modprobe vxlan\)/,
    );
    expect(calls).toEqual([
      "ip link add flannel.1 type vxlan id 1 local 198.51.100.2 dev eth0 dstport 8472 nolearning",
    ]);
  });

  it("answers undefined for a missing link and false for deleting one", async () => {
    const { exec } = fakeExec(
      (f, a) => new CommandError(commandLine(f, a), 1, 'Device "x" does not exist.\n'),
    );
    const ipr = new IpRoute(exec);
    expect(await ipr.getLink("x")).toBeUndefined();
    expect(await ipr.deleteLink("x")).toBe(false);
  });

  it("passes other failures on with the command line and stderr", async () => {
    const { exec } = fakeExec(
      (f, a) => new CommandError(commandLine(f, a), 2, "RTNETLINK answers: File exists\n"),
    );
    await expect(new IpRoute(exec).ip(["route", "add", "10.42.2.0/24", "dev", "flannel.1"])).rejects.toThrow(
      "command failed (exit 2): ip route add 10.42.2.0/24 dev flannel.1: RTNETLINK answers: File exists",
    );
  });

  it("narrows link, route, neighbour and FDB JSON to typed values", async () => {
    const { exec } = fakeExec((f, a) => {
      const cmd = `${f} ${a.join(" ")}`;
      if (cmd.includes("link show"))
        return JSON.stringify([
          {
            ifindex: 4,
            ifname: "flannel.1",
            address: "0a:58:0a:2a:01:00",
            mtu: 1450,
            flags: ["UP"],
            linkinfo: {
              info_kind: "vxlan",
              info_data: { id: 1, local: "198.51.100.2", link: "eth0", port: 8472, learning: false },
            },
          },
        ]);
      if (cmd.includes("route show"))
        return '[{"dst":"10.42.2.0/24","gateway":"10.42.2.0","flags":["onlink"]}]';
      if (cmd.includes("neigh show"))
        return '[{"dst":"10.42.2.0","lladdr":"0a:58:0a:2a:02:00","state":["PERMANENT"]}]';
      if (cmd.includes("fdb show"))
        return '[{"mac":"0a:58:0a:2a:02:00","dst":"198.51.100.3","flags":["self"],"state":"permanent"}]';
      return "";
    });
    const ipr = new IpRoute(exec);
    expect(await ipr.getLink("flannel.1")).toEqual({
      ifindex: 4,
      ifname: "flannel.1",
      address: "0a:58:0a:2a:01:00",
      mtu: 1450,
      flags: ["UP"],
      kind: "vxlan",
      vxlan: { id: 1, local: "198.51.100.2", link: "eth0", port: 8472, learning: false },
    });
    expect(await ipr.routes("flannel.1")).toEqual([
      { dst: "10.42.2.0/24", gateway: "10.42.2.0", dev: "flannel.1", flags: ["onlink"] },
    ]);
    expect(await ipr.neighs("flannel.1")).toEqual([
      { dst: "10.42.2.0", lladdr: "0a:58:0a:2a:02:00", state: ["PERMANENT"] },
    ]);
    expect(await ipr.fdb("flannel.1")).toEqual([
      { mac: "0a:58:0a:2a:02:00", dst: "198.51.100.3", flags: ["self"], state: "permanent" },
    ]);
    expect(await ipr.addrs("flannel.1")).toEqual([]);
  });

  it("rejects output that is not JSON with a hint", async () => {
    const { exec } = fakeExec(() => "1: lo: <LOOPBACK>");
    await expect(new IpRoute(exec).listLinks()).rejects.toThrow(
      /not JSON \(is iproute2 older than 4\.14\?\)/,
    );
  });
});
