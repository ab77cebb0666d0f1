import { describe, expect, it } from "vitest";
import {
  downFilter,
  downTopic,
  mayPublish,
  maySubscribe,
  nodeNameProblem,
  parseTopic,
  presenceTopic,
  TopicError,
  upTopic,
} from "../../../src/transport/topics.js";

describe("topics", () => {
  it("builds the scheme", () => {
    expect(downTopic("pi-1")).toBe("ek/v1/node/pi-1/down/sync");
    expect(upTopic("pi-1", "stream-7")).toBe("ek/v1/node/pi-1/up/stream-7");
    expect(presenceTopic("pi-1.lab")).toBe("ek/v1/node/pi-1.lab/presence");
    expect(downFilter("pi-1")).toBe("ek/v1/node/pi-1/down/+");
  });

  it.each(["", "a/b", "a+", "#", "A", "-a", "a-", "a_b", "x".repeat(254)])("rejects node name %j", (name) => {
    expect(nodeNameProblem(name)).toBeDefined();
    expect(() => downTopic(name)).toThrow(TopicError);
  });

  it("rejects bad stream names", () => {
    expect(() => upTopic("n", "a/b")).toThrow(/stream name/);
    expect(() => upTopic("n", "+")).toThrow(TopicError);
  });

  it("parses its own topics and nothing else", () => {
    expect(parseTopic("ek/v1/node/n1/up/sync")).toEqual({
      kind: "stream",
      node: "n1",
      direction: "up",
      stream: "sync",
    });
    expect(parseTopic("ek/v1/node/n1/presence")).toEqual({ kind: "presence", node: "n1" });
    for (const t of [
      "ek/v1/node/n1/sideways/sync",
      "ek/v1/node/+/up/sync",
      "ek/v2/node/n1/up/sync",
      "ek/v1/node/n1/up/a/b",
    ]) {
      expect(parseTopic(t)).toBeUndefined();
    }
  });

  it("lets a node publish only to its own up and presence topics", () => {
    expect(mayPublish("a", "ek/v1/node/a/up/sync")).toBe(true);
    expect(mayPublish("a", "ek/v1/node/a/presence")).toBe(true);
    expect(mayPublish("a", "ek/v1/node/a/down/sync")).toBe(false);
    expect(mayPublish("a", "ek/v1/node/b/up/sync")).toBe(false);
    expect(mayPublish("a", "ek/v1/node/b/presence")).toBe(false);
    expect(mayPublish("a", "$SYS/x")).toBe(false);
  });

  it("lets a node subscribe only below its own down topic", () => {
    expect(maySubscribe("a", "ek/v1/node/a/down/sync")).toBe(true);
    expect(maySubscribe("a", "ek/v1/node/a/down/+")).toBe(true);
    expect(maySubscribe("a", "ek/v1/node/a/down/#")).toBe(true);
    for (const f of [
      "ek/v1/node/b/down/sync",
      "ek/v1/node/+/down/sync",
      "ek/v1/node/#",
      "#",
      "ek/v1/node/a/up/sync",
      "ek/v1/node/a/down/x/#",
      "ek/v1/node/ab/down/sync",
    ]) {
      expect(maySubscribe("a", f)).toBe(false);
    }
  });
});
