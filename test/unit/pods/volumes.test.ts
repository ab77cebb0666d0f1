import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  containerMounts,
  type Payload,
  relativePathProblem,
  resolveSubPath,
  VolumeError,
  writeAtomic,
} from "../../../src/edge-agent/pods/index.js";

const dirs: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), "edgekube-vol-unit-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const file = (s: string, mode = 0o644) => ({ data: Buffer.from(s), mode });

describe("subPath and item paths", () => {
  it.each([
    ["..", "must not contain '..'"],
    ["a/../../b", "must not contain '..'"],
    ["/etc", "must be a relative path"],
    ["", "must not be empty"],
  ])("refuses %j", (p, problem) => {
    expect(relativePathProblem(p)).toBe(problem);
  });

  it("accepts plain relative paths and creates the subPath directory inside the volume", () => {
    const vol = temp();
    expect(relativePathProblem("a/b..c/d")).toBeUndefined();
    expect(resolveSubPath("v", vol, "logs/app")).toBe(join(vol, "logs/app"));
    expect(statSync(join(vol, "logs/app")).isDirectory()).toBe(true);
  });

  it("refuses traversal before creating anything, and symlinks that lead out of the volume", () => {
    const vol = temp();
    expect(() => resolveSubPath("v", vol, "../escape")).toThrow(VolumeError);
    expect(() => resolveSubPath("v", vol, "../escape")).toThrow(
      'MountVolume.SetUp failed for volume "v" : subPath "../escape" must not contain \'..\'',
    );
    expect(existsSync(join(vol, "..", "escape"))).toBe(false);
    const outside = temp();
    symlinkSync(outside, join(vol, "link"));
    expect(() => resolveSubPath("v", vol, "link/sub")).toThrow(/resolves outside the volume/);
    expect(existsSync(join(outside, "sub"))).toBe(false);
  });

  it("expands subPathExpr from the container env and marks read-only mounts", () => {
    const vol = temp();
    const mounts = containerMounts(
      {
        name: "c",
        volumeMounts: [
          { name: "logs", mountPath: "/logs", subPathExpr: "$(POD_NAME)" },
          { name: "cfg", mountPath: "/cfg" },
        ],
      },
      new Map([
        ["logs", { path: vol, readOnly: false }],
        ["cfg", { path: vol, readOnly: true }],
      ]),
      new Map([["POD_NAME", "web-1"]]),
    );
    expect(mounts).toEqual([
      { hostPath: join(vol, "web-1"), containerPath: "/logs", readOnly: false },
      { hostPath: vol, containerPath: "/cfg", readOnly: true },
    ]);
    expect(() =>
      containerMounts({ name: "c", volumeMounts: [{ name: "nope", mountPath: "/x" }] }, new Map(), new Map()),
    ).toThrow(/mounts volume "nope", which the pod does not define/);
  });
});

describe("writeAtomic (..data symlink swap)", () => {
  it("projects files behind ..data with modes, swaps atomically and prunes removed keys", () => {
    const dir = temp();
    const p1: Payload = new Map([
      ["a", file("1", 0o400)],
      ["sub/b", file("2")],
    ]);
    expect(writeAtomic(dir, p1)).toBe(true);
    const ts1 = readlinkSync(join(dir, "..data"));
    expect(ts1).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    expect(readlinkSync(join(dir, "a"))).toBe("..data/a");
    expect(readlinkSync(join(dir, "sub"))).toBe("..data/sub");
    expect(readFileSync(join(dir, "sub/b"), "utf8")).toBe("2");
    expect(statSync(join(dir, "a")).mode & 0o777).toBe(0o400);
    // unchanged payload: nothing written
    expect(writeAtomic(dir, new Map(p1))).toBe(false);
    expect(readlinkSync(join(dir, "..data"))).toBe(ts1);
    // changed: new timestamp dir, old one gone, removed key's link gone
    expect(writeAtomic(dir, new Map([["a", file("3", 0o400)]]))).toBe(true);
    const ts2 = readlinkSync(join(dir, "..data"));
    expect(ts2).not.toBe(ts1);
    expect(existsSync(join(dir, ts1))).toBe(false);
    expect(readFileSync(join(dir, "a"), "utf8")).toBe("3");
    expect(() => lstatSync(join(dir, "sub"))).toThrow();
  });

  it("refuses payload paths that escape the volume", () => {
    const dir = temp();
    mkdirSync(dir, { recursive: true });
    expect(() => writeAtomic(dir, new Map([["../x", file("")]]))).toThrow(/must not contain '\.\.'/);
    expect(() => writeAtomic(dir, new Map([["/abs", file("")]]))).toThrow(/relative/);
    expect(() => writeAtomic(dir, new Map([["..data", file("")]]))).toThrow(/must not start with/);
  });
});
