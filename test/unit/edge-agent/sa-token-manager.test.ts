/**
 * The agent's service account token manager against a recording fake link and a settable
 * clock: first token waits for the hub, cache hits send nothing, refresh at 80% of the lifetime
 * serves the old token meanwhile and announces the new one, link-down and refusal answers,
 * back-off after a refusal, the on-disk cache across restarts, and pruning of gone pods.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KubeObject } from "../../../src/api/object.js";
import {
  needsRefresh,
  ServiceAccountTokenManager,
  type TokenLink,
} from "../../../src/edge-agent/tokens/index.js";
import type { Envelope } from "../../../src/transport/envelope.js";
import {
  parseTokenRequest,
  TOKEN_TOPIC,
  type TokenResponse,
  tokenResponseEnvelope,
} from "../../../src/transport/token-frames.js";

class FakeLink implements TokenLink {
  connected = true;
  readonly sent: { env: Envelope; stream: string }[] = [];
  private handler: ((env: Envelope) => void) | undefined;
  send(env: Envelope, stream: string): Promise<void> {
    this.sent.push({ env, stream });
    return Promise.resolve();
  }
  on(_type: string, handler: (env: never) => void): () => void {
    this.handler = handler as (env: Envelope) => void;
    return () => {
      this.handler = undefined;
    };
  }
  /** answers the newest request */
  reply(res: TokenResponse): void {
    const last = this.sent.at(-1);
    if (!last) throw new Error("no request was sent");
    this.handler?.(tokenResponseEnvelope(parseTokenRequest(last.env).id, res));
  }
}

const HOUR = 3600_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function pod(uid = "uid-1", sa?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p1", namespace: "ns1", uid },
    spec: { ...(sa ? { serviceAccountName: sa } : {}), containers: [] },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { file?: string; live?: string[] } = {}) {
  const link = new FakeLink();
  const clock = { now: T0 };
  const m = new ServiceAccountTokenManager({
    link,
    now: () => clock.now,
    ...(opts.file ? { file: opts.file } : {}),
    ...(opts.live ? { livePods: () => opts.live ?? [] } : {}),
  });
  return { link, clock, m };
}

/** waits until the manager has sent `n` requests (the request is sent after a microtask) */
async function sentCount(link: FakeLink, n: number): Promise<void> {
  await vi.waitFor(() => expect(link.sent).toHaveLength(n));
}

describe("ServiceAccountTokenManager", () => {
  it("asks the hub for a pod's first token and answers later gets from its cache", async () => {
    const { link, m } = setup();
    await m.start();
    const first = m.get(pod(), "", 3607);
    await sentCount(link, 1);
    const { request } = parseTokenRequest(link.sent[0]!.env);
    expect(link.sent[0]!.stream).toBe(TOKEN_TOPIC);
    expect(request).toEqual({
      namespace: "ns1",
      pod: "p1",
      podUID: "uid-1",
      serviceAccount: "default",
      audience: "",
      expirationSeconds: 3607,
    });
    link.reply({ token: "tok-1", expirationTimestamp: iso(T0 + HOUR) });
    expect(await first).toEqual({ token: "tok-1" });
    expect(await m.get(pod(), "", 3607)).toEqual({ token: "tok-1" });
    expect(link.sent).toHaveLength(1);
    // another audience is another token
    void m.get(pod(), "vault", 3607);
    await sentCount(link, 2);
  });

  it("refreshes at 80% of the lifetime, serving the old token until the new one arrives", async () => {
    const { link, clock, m } = setup();
    await m.start();
    const changed = vi.fn();
    m.onChange(changed);
    const first = m.get(pod(), "", 3600);
    await sentCount(link, 1);
    link.reply({ token: "tok-1", expirationTimestamp: iso(T0 + HOUR) });
    await first;
    // the first token is not announced: its pod is the one waiting for it
    expect(changed).not.toHaveBeenCalled();
    clock.now = T0 + 0.79 * HOUR;
    expect(await m.get(pod(), "", 3600)).toEqual({ token: "tok-1" });
    expect(link.sent).toHaveLength(1);
    clock.now = T0 + 0.81 * HOUR;
    expect(await m.get(pod(), "", 3600)).toEqual({ token: "tok-1" });
    await sentCount(link, 2);
    link.reply({ token: "tok-2", expirationTimestamp: iso(clock.now + HOUR) });
    await vi.waitFor(() => expect(changed).toHaveBeenCalledWith("uid-1"));
    expect(changed).toHaveBeenCalledTimes(1);
    expect(await m.get(pod(), "", 3600)).toEqual({ token: "tok-2" });
  });

  it("fails at once without a token while the link is down, but keeps serving a valid one", async () => {
    const { link, clock, m } = setup();
    await m.start();
    link.connected = false;
    const r = await m.get(pod(), "", 3607);
    expect(r).toEqual({ error: expect.stringContaining("edge link to the hub is down") });
    expect(link.sent).toHaveLength(0);
    link.connected = true;
    const p = m.get(pod(), "", 3607);
    await sentCount(link, 1);
    link.reply({ token: "tok-1", expirationTimestamp: iso(T0 + HOUR) });
    await p;
    link.connected = false;
    clock.now = T0 + 0.9 * HOUR;
    expect(await m.get(pod(), "", 3607)).toEqual({ token: "tok-1" });
    clock.now = T0 + HOUR;
    expect(await m.get(pod(), "", 3607)).toEqual({ error: expect.stringContaining("link") });
  });

  it("reports a refusal and backs off before asking again", async () => {
    const { link, clock, m } = setup();
    await m.start();
    const p = m.get(pod("uid-1", "robot"), "", 3607);
    await sentCount(link, 1);
    link.reply({ error: { code: 404, reason: "NotFound", message: 'serviceaccounts "robot" not found' } });
    expect(await p).toEqual({ error: expect.stringContaining('serviceaccounts "robot" not found') });
    expect(await m.get(pod("uid-1", "robot"), "", 3607)).toEqual({ error: expect.stringContaining("robot") });
    expect(link.sent).toHaveLength(1);
    clock.now += 1000;
    void m.get(pod("uid-1", "robot"), "", 3607);
    await sentCount(link, 2);
  });

  it("times out when the hub does not answer", async () => {
    const link = new FakeLink();
    const m = new ServiceAccountTokenManager({ link, waitMs: 20 });
    await m.start();
    expect(await m.get(pod(), "", 3607)).toEqual({ error: expect.stringContaining("did not answer") });
  });

  it("keeps tokens on disk (0600) across restarts and drops those of pods that are gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ek-satok-"));
    dirs.push(dir);
    const file = join(dir, "sa-tokens.json");
    const live = ["uid-1", "uid-2"];
    const a = setup({ file, live });
    await a.m.start();
    for (const uid of live) {
      const p = a.m.get(pod(uid), "", 3607);
      await vi.waitFor(() => expect(a.link.sent.length).toBeGreaterThan(live.indexOf(uid)));
      a.link.reply({ token: `tok-${uid}`, expirationTimestamp: iso(T0 + HOUR) });
      await p;
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    a.m.stop();

    live.splice(1);
    const b = setup({ file, live });
    await b.m.start(); // prunes uid-2
    b.link.connected = false;
    expect(await b.m.get(pod("uid-1"), "", 3607)).toEqual({ token: "tok-uid-1" });
    expect(await b.m.get(pod("uid-2"), "", 3607)).toEqual({ error: expect.any(String) });
  });

  it("needsRefresh: 80% of the lifetime, or a day old", () => {
    const t = { token: "x", issuedAt: 0, expiresAt: 10_000 };
    expect(needsRefresh(t, 7999)).toBe(false);
    expect(needsRefresh(t, 8000)).toBe(true);
    const long = { token: "x", issuedAt: 0, expiresAt: 365 * 24 * HOUR };
    expect(needsRefresh(long, 24 * HOUR + 1)).toBe(true);
  });
});
