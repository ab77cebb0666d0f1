import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { ImageCache } from "../../src/edge-agent/runtime/image-cache.js";

/** A dockerode stand-in that answers image inspects from a table and counts them. */
function fakeDocker(images: Map<string, { Id: string; Config: { User: string } }>) {
  const calls: string[] = [];
  const docker = {
    getImage: (ref: string) => ({
      inspect: async () => {
        calls.push(ref);
        await Promise.resolve();
        const info = images.get(ref);
        if (!info) throw Object.assign(new Error("No such image"), { statusCode: 404 });
        return info;
      },
    }),
  } as unknown as Docker;
  return { docker, calls };
}

describe("ImageCache", () => {
  it("asks Docker once for concurrent and repeated questions within the TTL", async () => {
    const { docker, calls } = fakeDocker(new Map([["busybox:1", { Id: "sha256:a", Config: { User: "" } }]]));
    let now = 1000;
    const cache = new ImageCache(docker, 30_000, () => now);
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.inspect("busybox:1")));
    expect(answers.every((a) => a?.imageID === "sha256:a")).toBe(true);
    expect(calls).toHaveLength(1);
    now += 29_999;
    await cache.inspect("busybox:1");
    expect(calls).toHaveLength(1);
    now += 1;
    await cache.inspect("busybox:1");
    expect(calls).toHaveLength(2);
  });

  it("never caches absence, and forgets what a create reported missing or a load replaced", async () => {
    const images = new Map<string, { Id: string; Config: { User: string } }>();
    const { docker, calls } = fakeDocker(images);
    const cache = new ImageCache(docker);
    expect(await cache.inspect("app:1")).toBeUndefined();
    images.set("app:1", { Id: "sha256:b", Config: { User: "1000" } });
    expect(await cache.inspect("app:1")).toEqual({ imageID: "sha256:b", user: "1000" });
    expect(calls).toHaveLength(2);
    images.delete("app:1");
    cache.forget("app:1");
    expect(await cache.inspect("app:1")).toBeUndefined();
    images.set("app:1", { Id: "sha256:c", Config: { User: "" } });
    expect(await cache.inspect("app:1")).toEqual({ imageID: "sha256:c", user: "" });
    cache.forget();
    expect(cache.size).toBe(0);
    cache.remember("app:1", { imageID: "sha256:d", user: "" });
    expect((await cache.inspect("app:1"))?.imageID).toBe("sha256:d");
    expect(calls).toHaveLength(4);
  });
});
