import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { isLongRunning, RequestDrain } from "../../../../src/hub/apiserver/request-drain.js";

const req = (url: string) => ({ url }) as IncomingMessage;
const res = () => new EventEmitter() as unknown as ServerResponse;

describe("isLongRunning", () => {
  it("is true for watches and followed logs only", () => {
    expect(isLongRunning("/api/v1/namespaces/default/pods?watch=true")).toBe(true);
    expect(isLongRunning("/api/v1/pods?watch=1&resourceVersion=5")).toBe(true);
    expect(isLongRunning("/api/v1/watch/namespaces/default/pods")).toBe(true);
    expect(isLongRunning("/apis/apps/v1/watch/deployments")).toBe(true);
    expect(isLongRunning("/api/v1/namespaces/default/pods/p/log?follow=true")).toBe(true);
    expect(isLongRunning("/api/v1/namespaces/default/pods/p/log")).toBe(false);
    expect(isLongRunning("/api/v1/namespaces/default/pods?watch=false")).toBe(false);
    expect(isLongRunning("/api/v1/namespaces/default/configmaps")).toBe(false);
    expect(isLongRunning("/apis/apps/v1/namespaces/watch/deployments")).toBe(false);
  });
});

describe("RequestDrain", () => {
  it("resolves at once with nothing in flight", async () => {
    await new RequestDrain().drain(60_000);
  });

  it("waits for the requests it tracks, not for watches", async () => {
    const d = new RequestDrain();
    const create = res();
    const watch = res();
    d.track(req("/api/v1/namespaces/default/configmaps"), create);
    d.track(req("/api/v1/configmaps?watch=true"), watch);
    expect(d.size).toBe(1);
    let drained = false;
    const p = d.drain(60_000).then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    (create as unknown as EventEmitter).emit("close");
    await p;
    expect(d.size).toBe(0);
  });

  it("gives up after its bound", async () => {
    const d = new RequestDrain();
    d.track(req("/api/v1/namespaces"), res());
    await d.drain(10);
    expect(d.size).toBe(1);
  });
});
