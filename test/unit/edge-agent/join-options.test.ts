import { describe, expect, it } from "vitest";
import {
  checkNodeIP,
  checkNodeName,
  JoinOptionError,
  parseHubUrl,
  parseLabels,
  parseTaints,
} from "../../../src/edge-agent/join/options.js";

describe("join options", () => {
  it("accepts https://HOST:PORT only", () => {
    expect(parseHubUrl("https://10.0.0.1:6443").host).toBe("10.0.0.1:6443");
    expect(() => parseHubUrl("http://hub:6443")).toThrow(/must use https/);
    expect(() => parseHubUrl("hub:6443")).toThrow(JoinOptionError);
    expect(() => parseHubUrl("not a url")).toThrow(/is not a URL/);
    expect(() => parseHubUrl("https://hub:6443/api")).toThrow(/without a path/);
  });

  it("validates node names and IPs", () => {
    expect(checkNodeName("pi-1.lab")).toBe("pi-1.lab");
    expect(() => checkNodeName("Pi_1")).toThrow(/--node-name/);
    expect(() => checkNodeName("a/b")).toThrow(JoinOptionError);
    expect(checkNodeIP("192.168.1.20")).toBe("192.168.1.20");
    expect(checkNodeIP("fd00::1")).toBe("fd00::1");
    expect(() => checkNodeIP("192.168.1")).toThrow(/not an IP address/);
  });

  it("parses labels k=v,k2=v2 with Kubernetes label syntax", () => {
    expect(parseLabels(undefined)).toEqual({});
    expect(parseLabels("zone=lab, example.com/tier=edge,empty=")).toEqual({
      zone: "lab",
      "example.com/tier": "edge",
      empty: "",
    });
    expect(() => parseLabels("zone")).toThrow(/has no "="/);
    expect(() => parseLabels("-bad=x")).toThrow(/--labels key "-bad"/);
    expect(() => parseLabels("k=not ok")).toThrow(/--labels value "not ok"/);
  });

  it("parses taints key=value:Effect and key:Effect", () => {
    expect(parseTaints("dedicated=edge:NoSchedule,gpu:PreferNoSchedule")).toEqual([
      { key: "dedicated", value: "edge", effect: "NoSchedule" },
      { key: "gpu", effect: "PreferNoSchedule" },
    ]);
    expect(() => parseTaints("dedicated=edge")).toThrow(/has no effect/);
    expect(() => parseTaints("a=b:Never")).toThrow(/must be one of NoSchedule, PreferNoSchedule, NoExecute/);
    expect(() => parseTaints("a:NoSchedule,a=x:NoSchedule")).toThrow(/twice/);
  });
});
