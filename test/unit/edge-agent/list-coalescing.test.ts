import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { LABEL_POD_UID, LABEL_ROLE } from "../../../src/edge-agent/runtime/labels.js";
import { coalescePodLists, podQueryUid } from "../../../src/edge-agent/runtime/list-coalescing.js";

type Info = Docker.ContainerInfo;
const info = (id: string, uid: string): Info =>
  ({ Id: id, Labels: { [LABEL_ROLE]: "app", [LABEL_POD_UID]: uid } }) as unknown as Info;

/** A dockerd with containers `state`; records each list call's options. */
function fakeDocker(state: Info[]) {
  const calls: unknown[] = [];
  const docker = {
    listContainers: async (opts: unknown) => {
      calls.push(opts);
      return [...state];
    },
    getContainer: (id: string) => ({ id }),
  } as unknown as Docker;
  return { docker, calls };
}

const podQuery = (uid: string) => ({
  all: true,
  filters: { label: [LABEL_ROLE, `${LABEL_POD_UID}=${uid}`] },
});

describe("podQueryUid", () => {
  it("recognises only the per-pod query form", () => {
    expect(podQueryUid(podQuery("u1"))).toBe("u1");
    expect(podQueryUid({ all: true, filters: { label: [LABEL_ROLE] } })).toBeUndefined();
    expect(podQueryUid({ filters: { label: [LABEL_ROLE, `${LABEL_POD_UID}=u1`] } })).toBeUndefined();
    expect(podQueryUid({ ...podQuery("u1"), limit: 1 })).toBeUndefined();
    expect(
      podQueryUid({
        all: true,
        filters: { label: [LABEL_ROLE, `${LABEL_POD_UID}=u1`], status: ["running"] },
      }),
    ).toBeUndefined();
    expect(podQueryUid(undefined)).toBeUndefined();
  });
});

describe("coalescePodLists", () => {
  it("serves the pod queries of one turn with one list, each with its own pod's containers", async () => {
    const { docker, calls } = fakeDocker([info("a1", "a"), info("b1", "b"), info("a2", "a")]);
    const d = coalescePodLists(docker);
    const [a, b, c] = await Promise.all([
      d.listContainers(podQuery("a")),
      d.listContainers(podQuery("b")),
      d.listContainers(podQuery("c")),
    ]);
    expect(calls).toEqual([{ all: true, filters: { label: [LABEL_ROLE] } }]);
    expect(a.map((x) => x.Id)).toEqual(["a1", "a2"]);
    expect(b.map((x) => x.Id)).toEqual(["b1"]);
    expect(c).toEqual([]);
  });

  it("never answers from a list sent before the call: a later query gets a list of its own", async () => {
    const state = [info("a1", "a")];
    const { docker, calls } = fakeDocker(state);
    const d = coalescePodLists(docker);
    expect((await d.listContainers(podQuery("a"))).map((x) => x.Id)).toEqual(["a1"]);
    state.push(info("a2", "a"));
    expect((await d.listContainers(podQuery("a"))).map((x) => x.Id)).toEqual(["a1", "a2"]);
    expect(calls).toHaveLength(2);
  });

  it("passes other lists through untouched, and every other method", async () => {
    const { docker, calls } = fakeDocker([info("a1", "a")]);
    const d = coalescePodLists(docker);
    const opts = { all: true, filters: { label: [LABEL_ROLE] } };
    await d.listContainers(opts);
    expect(calls).toEqual([opts]);
    expect((d.getContainer("x") as unknown as { id: string }).id).toBe("x");
  });

  it("rejects every joined caller when the shared list fails", async () => {
    const docker = {
      listContainers: async () => {
        throw new Error("dockerd is down");
      },
    } as unknown as Docker;
    const d = coalescePodLists(docker);
    const r = await Promise.allSettled([d.listContainers(podQuery("a")), d.listContainers(podQuery("b"))]);
    expect(r.map((x) => x.status)).toEqual(["rejected", "rejected"]);
  });
});
