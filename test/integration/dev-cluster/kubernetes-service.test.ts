/**
 * The hub's API reachable from pods as kubernetes.default.svc (issue 7), on a real one-node dev
 * cluster: the `kubernetes` Endpoints point at the address the node namespaces reach (the hub's
 * advertised host address on the dev LAN) and its bound HTTPS port; a pod resolves the name
 * through the cluster DNS to 10.43.0.1 and talks TLS through that ClusterIP to the hub's
 * /healthz (anonymous, so no token is needed to prove the path). The pod's projected service
 * account volume (admission + the agent process's token manager over MQTT) holds a token that
 * the hub accepts with the CA from the same volume.
 */
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DevClusterFixture, type PodInfo } from "../../helpers/dev-cluster-fixture.js";
import { hasDocker, hasRoot, need } from "../../helpers/prereq.js";

const poll = { timeout: 60_000, interval: 1_000 };

interface ApiEndpoints {
  subsets?: { addresses?: { ip: string }[]; ports?: { port: number; name?: string }[] }[];
}

describe.skipIf(!need(hasRoot(), hasDocker()))("kubernetes service on a dev cluster", () => {
  const f = new DevClusterFixture();
  let pod: PodInfo;

  beforeAll(async () => {
    await f.up(1);
    await f.createPod("client", "node1", "sleep 100000");
    pod = await vi.waitFor(async () => {
      const p = await f.runningPod("client");
      if (!p) throw new Error("client not running yet");
      return p;
    }, poll);
  }, 300_000);

  afterAll(async () => {
    await f.down();
  }, 120_000);

  it("points the kubernetes Endpoints at the hub's advertised address and bound port", async () => {
    const s = f.cluster.state;
    await vi.waitFor(async () => {
      const ep = await f.cluster
        .client()
        .get<ApiEndpoints>("/api/v1/namespaces/default/endpoints/kubernetes");
      expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual([s.hostIP]);
      expect(ep.subsets?.[0]?.ports?.map((p) => p.port)).toEqual([s.httpsPort]);
    }, poll);
  });

  it("resolves kubernetes.default.svc.cluster.local to 10.43.0.1 from a pod", async () => {
    await vi.waitFor(() => {
      const out = f.exec(pod, ["nslookup", "kubernetes.default.svc.cluster.local"], 15_000);
      expect(out).toMatch(/Address:\s*10\.43\.0\.1\b/);
    }, poll);
  });

  it("reaches the hub's TLS listener through the ClusterIP, by address and by name", async () => {
    // busybox's ssl_client cannot finish a handshake with the hub (it answers alert 40,
    // handshake_failure: no common parameters with Node's TLS), so the proof is that a TLS
    // server answered at 10.43.0.1:443 — only the hub listens behind that rule. A dead path
    // gives "Connection refused"/a timeout instead, never a TLS alert.
    const tryGet = (url: string): string => {
      try {
        return f.exec(pod, ["timeout", "5", "wget", "--no-check-certificate", "-qO-", url], 15_000).trim();
      } catch (err) {
        return String((err as { stderr?: unknown }).stderr ?? err);
      }
    };
    for (const url of ["https://10.43.0.1/healthz", "https://kubernetes.default.svc/healthz"]) {
      await vi.waitFor(() => expect(tryGet(url)).toMatch(/^ok$|TLS error from peer/), poll);
    }
    // the control: a ClusterIP port nothing serves does not produce a TLS answer
    expect(tryGet("https://10.43.0.1:444/healthz")).not.toMatch(/TLS error from peer|^ok$/);
  }, 150_000);

  it("projects a service account token, CA and namespace that the hub accepts", async () => {
    const dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    const token = f.exec(pod, ["cat", `${dir}/token`]);
    const ca = f.exec(pod, ["cat", `${dir}/ca.crt`]);
    expect(f.exec(pod, ["cat", `${dir}/namespace`])).toBe("default");
    const s = f.cluster.state;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `https://${s.hostIP}:${s.httpsPort}/api/v1/namespaces/default/pods`,
        { ca, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
    // authenticated as system:serviceaccount:default:default; authorization decides the rest
    expect([200, 403]).toContain(status);
  });
});
