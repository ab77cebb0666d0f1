/**
 * bench/rbac: what RBAC costs per request.
 * 1. Decisions in memory: the bootstrap policy plus BENCH_NAMESPACES × BENCH_BINDINGS_PER_NS
 *    RoleBindings and BENCH_CLUSTER_BINDINGS ClusterRoleBindings for other users; a service
 *    account allowed through its RoleBinding (walks every ClusterRoleBinding first) and one denied.
 * 2. Over HTTPS on an in-process hub: GET one pod, as the admin (system:masters short-circuit)
 *    and as a service account allowed by a RoleBinding to `view`, same load for both.
 * Targets: ≥ 200,000 decisions/s with 2,000 RoleBindings + 200 ClusterRoleBindings; the
 * service account's HTTPS rate ≥ 90% of the admin's. BENCH_QUICK=1 for a short run.
 */
import { request } from "node:https";
import { loadavg } from "node:os";
import type { KubeObject } from "../src/api/object.js";
import {
  bootstrapPolicy,
  RbacAuthorizer,
  RbacPolicyCache,
  requestAttributes,
} from "../src/hub/apiserver/authz/index.js";
import { startHub } from "../test/helpers/hub.js";
import { runLoad } from "./lib/https-load.js";
import { writeResult } from "./lib/stats.js";

const QUICK = process.env.BENCH_QUICK === "1";
const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 100);
const PER_NS = Number(process.env.BENCH_BINDINGS_PER_NS ?? 20);
const CLUSTER_BINDINGS = Number(process.env.BENCH_CLUSTER_BINDINGS ?? 200);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? (QUICK ? 50_000 : 500_000));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 2_000 : 20_000));
const CONC = 32;

function decisions(): Record<string, { perSec: number; perCpuSec: number }> {
  const cache = new RbacPolicyCache();
  for (const o of bootstrapPolicy())
    cache.upsert(o.kind === "ClusterRole" ? "clusterroles" : "clusterrolebindings", o);
  for (let i = 0; i < CLUSTER_BINDINGS; i++) {
    cache.upsert("clusterrolebindings", {
      metadata: { name: `crb-${i}` },
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: `user-${i}` }],
    } as KubeObject);
  }
  for (let n = 0; n < NAMESPACES; n++) {
    for (let i = 0; i < PER_NS; i++) {
      cache.upsert("rolebindings", {
        metadata: { name: `rb-${i}`, namespace: `ns-${n}` },
        roleRef: { kind: "ClusterRole", name: i === PER_NS - 1 ? "edit" : "view" },
        subjects: [{ kind: "ServiceAccount", name: `sa-${i}`, namespace: `ns-${n}` }],
      } as KubeObject);
    }
  }
  const authz = new RbacAuthorizer(cache);
  const user = {
    username: `system:serviceaccount:ns-7:sa-${PER_NS - 1}`,
    groups: ["system:serviceaccounts", "system:serviceaccounts:ns-7", "system:authenticated"],
  };
  const q = new URLSearchParams();
  const allowed = requestAttributes(user, "PATCH", "/apis/apps/v1/namespaces/ns-7/deployments/web", q);
  const denied = requestAttributes(user, "DELETE", "/api/v1/nodes/n1", q);
  // per wall second and per CPU second: the latter stays meaningful on a loaded machine
  const rate = (a: typeof allowed, want: boolean) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < DECISIONS; i++)
      if (authz.authorize(a).allowed !== want) throw new Error("wrong decision");
    const cpu = process.cpuUsage(c0);
    return {
      perSec: Math.round(DECISIONS / ((performance.now() - t0) / 1000)),
      perCpuSec: Math.round(DECISIONS / ((cpu.user + cpu.system) / 1e6)),
    };
  };
  return { allowed: rate(allowed, true), denied: rate(denied, false) };
}

function post(url: string, ca: string, token: string, path: string, body: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method: "POST",
        ca,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      },
      (res) => {
        let s = "";
        res.on("data", (c: Buffer) => {
          s += c.toString();
        });
        res.on("end", () => ((res.statusCode ?? 0) < 300 ? resolve(s) : reject(new Error(`${path}: ${s}`))));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function https(): Promise<Record<string, unknown>> {
  const t = await startHub();
  try {
    const ca = /certificate-authority-data: (\S+)/.exec(
      (await import("node:fs")).readFileSync(t.kubeconfig, "utf8"),
    )?.[1];
    const caPem = Buffer.from(ca ?? "", "base64").toString();
    const admin = t.hub.adminToken;
    await t.kubectl(["create", "ns", "b"]);
    await t.kubectl(["create", "sa", "robot", "-n", "b"]);
    await t.kubectl(["run", "p", "--image=busybox", "-n", "b"]);
    await t.kubectl([
      "create",
      "rolebinding",
      "r",
      "--clusterrole=view",
      "--serviceaccount=b:robot",
      "-n",
      "b",
    ]);
    const tr = JSON.parse(
      await post(t.hub.url, caPem, admin, "/api/v1/namespaces/b/serviceaccounts/robot/token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      }),
    ) as { status: { token: string } };
    const get = () => ({ method: "GET", path: "/api/v1/namespaces/b/pods/p" });
    await runLoad({ url: t.hub.url, ca: caPem, token: admin }, 500, CONC, get); // warm-up
    const asAdmin = await runLoad({ url: t.hub.url, ca: caPem, token: admin }, REQUESTS, CONC, get);
    const asSa = await runLoad({ url: t.hub.url, ca: caPem, token: tr.status.token }, REQUESTS, CONC, get);
    if (asSa.errors > 0 || asAdmin.errors > 0)
      throw new Error("requests failed: the service account lacks view?");
    return { admin: asAdmin, serviceAccount: asSa, ratio: asSa.opsPerSec / asAdmin.opsPerSec };
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  const mem = decisions();
  const net = await https();
  const result = {
    bench: "rbac",
    quick: QUICK,
    loadAverage: loadavg(),
    config: { NAMESPACES, PER_NS, CLUSTER_BINDINGS, DECISIONS, REQUESTS, CONC },
    decisions: mem,
    https: net,
    targets: { decisionsPerSec: 200_000, httpsRatio: 0.9 },
  };
  const file = writeResult("rbac", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
