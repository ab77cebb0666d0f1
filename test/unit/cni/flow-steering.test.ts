import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Exec } from "../../../src/cni/exec.js";
import { FlowSteering, rpsMask } from "../../../src/cni/flow-steering.js";

describe("rpsMask", () => {
  it("selects every CPU, in the kernel's bitmap format", () => {
    expect(rpsMask(2)).toBe("3");
    expect(rpsMask(4)).toBe("f");
    expect(rpsMask(6)).toBe("3f");
    expect(rpsMask(32)).toBe("ffffffff");
    expect(rpsMask(33)).toBe("1,ffffffff");
    expect(rpsMask(40)).toBe("ff,ffffffff");
    expect(rpsMask(64)).toBe("ffffffff,ffffffff");
  });

  it("steers nothing on one CPU (or a nonsense count)", () => {
    expect(rpsMask(1)).toBeUndefined();
    expect(rpsMask(0)).toBeUndefined();
    expect(rpsMask(2.5)).toBeUndefined();
  });
});

describe("FlowSteering", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A sysfs-shaped directory holding one device with `ifindex`. */
  function fakeSysfs(dev: string, ifindex: number): string {
    const root = mkdtempSync(join(tmpdir(), "ek-sysfs-"));
    dirs.push(root);
    mkdirSync(join(root, "class/net", dev, "queues/rx-0"), { recursive: true });
    writeFileSync(join(root, "class/net", dev, "ifindex"), `${ifindex}\n`);
    writeFileSync(join(root, "class/net", dev, "queues/rx-0/rps_cpus"), "0\n");
    return root;
  }

  function recordingExec(): { exec: Exec; calls: Array<{ file: string; args: readonly string[] }> } {
    const calls: Array<{ file: string; args: readonly string[] }> = [];
    return {
      calls,
      exec: async (file, args) => {
        calls.push({ file, args });
        return { stdout: "", stderr: "" };
      },
    };
  }

  it("writes the mask directly when this process's sysfs shows the same device", async () => {
    const root = fakeSysfs("veth0123abcd", 17);
    const { exec, calls } = recordingExec();
    const s = new FlowSteering({ exec, cpus: 4, sysfsRoot: root });
    expect(await s.steer("veth0123abcd", 17)).toBe("direct");
    expect(readFileSync(join(root, "class/net/veth0123abcd/queues/rx-0/rps_cpus"), "utf8")).toBe("f\n");
    expect(calls).toEqual([]);
  });

  it("goes through a fresh sysfs when the visible device is another one (other namespace)", async () => {
    const root = fakeSysfs("veth0123abcd", 99);
    const { exec, calls } = recordingExec();
    const s = new FlowSteering({ exec, cpus: 2, sysfsRoot: root });
    expect(await s.steer("veth0123abcd", 17)).toBe("fresh-sysfs");
    // the visible file is not touched: it belongs to a different device
    expect(readFileSync(join(root, "class/net/veth0123abcd/queues/rx-0/rps_cpus"), "utf8")).toBe("0\n");
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.file).toBe("unshare");
    expect(call?.args.slice(0, 4)).toEqual(["--mount", "--propagation", "private", "--"]);
    // mask and device are positional arguments, never spliced into the script
    expect(call?.args.slice(-2)).toEqual(["3", "veth0123abcd"]);
    expect(call?.args.join(" ")).not.toContain("veth0123abcd/queues");
  });

  it("goes through a fresh sysfs when the device is not visible here at all", async () => {
    const root = fakeSysfs("vethother0", 5);
    const { exec, calls } = recordingExec();
    expect(await new FlowSteering({ exec, cpus: 2, sysfsRoot: root }).steer("veth0123abcd", 5)).toBe(
      "fresh-sysfs",
    );
    expect(calls).toHaveLength(1);
  });

  it("does nothing on a single CPU", async () => {
    const { exec, calls } = recordingExec();
    expect(await new FlowSteering({ exec, cpus: 1 }).steer("veth0123abcd", 5)).toBe("none");
    expect(calls).toEqual([]);
  });

  it("passes a failure of the fresh-sysfs write up to the caller", async () => {
    const exec: Exec = async () => {
      throw new Error("unshare: unshare failed: Operation not permitted");
    };
    await expect(
      new FlowSteering({ exec, cpus: 2, sysfsRoot: "/nonexistent" }).steer("vethx", 3),
    ).rejects.toThrow(/Operation not permitted/);
  });
});
