/**
 * RBAC with real kubectl 1.32: a service account's token (`kubectl create token`) used with
 * `kubectl --token` is refused with upstream's Forbidden text until a RoleBinding to `view`
 * is created; `auth can-i` (also `--list` and `--as` impersonation) answers from the same
 * policy; stream upgrades need `create` on pods/exec; the default policy is created on first
 * start and re-created when deleted, without overwriting edits.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHub, type TestHub } from "../helpers/hub.js";
import { hasKubectl, need } from "../helpers/prereq.js";

const SA = "system:serviceaccount:rb1:robot";

describe.skipIf(!need(hasKubectl()))("kubectl with RBAC", () => {
  let t: TestHub;
  let token = "";
  const asRobot = (args: string[]) => t.kubectl(["--token", token, ...args], { allowFail: true });

  beforeAll(async () => {
    t = await startHub();
    await t.kubectl(["create", "namespace", "rb1"]);
    await t.kubectl(["create", "serviceaccount", "robot", "-n", "rb1"]);
    token = (await t.kubectl(["create", "token", "robot", "-n", "rb1"])).stdout.trim();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("refuses a service account without bindings, with upstream's messages", async () => {
    const pods = await asRobot(["get", "pods", "-n", "rb1"]);
    expect(pods.code).not.toBe(0);
    expect(pods.stderr).toContain(
      `Error from server (Forbidden): pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "rb1"`,
    );
    const nodes = await asRobot(["get", "nodes"]);
    expect(nodes.stderr).toContain(
      `nodes is forbidden: User "${SA}" cannot list resource "nodes" in API group "" at the cluster scope`,
    );
    const del = await asRobot(["delete", "deployment", "web", "-n", "rb1"]);
    expect(del.stderr).toContain(
      `deployments.apps "web" is forbidden: User "${SA}" cannot delete resource "deployments" in API group "apps" in the namespace "rb1"`,
    );
    // discovery and whoami stay open to every authenticated user (system:discovery, system:basic-user)
    const who = await asRobot(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    expect(who.stdout).toBe(SA);
    const can = await asRobot(["auth", "can-i", "get", "pods", "-n", "rb1"]);
    expect([can.code, can.stdout.trim()]).toEqual([1, "no"]);
    const asSa = await t.kubectl(["auth", "can-i", "list", "pods", "-n", "rb1", `--as=${SA}`], {
      allowFail: true,
    });
    expect([asSa.code, asSa.stdout.trim()]).toEqual([1, "no"]);
  });

  it("allows reading after a RoleBinding to view, only in that namespace", async () => {
    await t.kubectl(["run", "p1", "--image=busybox", "-n", "rb1"]);
    await t.kubectl([
      "create",
      "rolebinding",
      "robot-view",
      "--clusterrole=view",
      "--serviceaccount=rb1:robot",
      "-n",
      "rb1",
    ]);
    // the authorizer's cache follows the store by watch: poll, do not sleep
    await vi.waitFor(
      async () => {
        const r = await asRobot(["get", "pods", "-n", "rb1", "-o", "name"]);
        expect(r.stdout.trim()).toBe("pod/p1");
      },
      { timeout: 15_000, interval: 200 },
    );
    expect((await asRobot(["auth", "can-i", "get", "pods", "-n", "rb1"])).stdout.trim()).toBe("yes");
    expect(
      (await t.kubectl(["auth", "can-i", "watch", "pods", "-n", "rb1", `--as=${SA}`])).stdout.trim(),
    ).toBe("yes");
    const create = await t.kubectl(["auth", "can-i", "create", "pods", "-n", "rb1", `--as=${SA}`], {
      allowFail: true,
    });
    expect(create.stdout.trim()).toBe("no");
    const other = await asRobot(["get", "pods", "-n", "default"]);
    expect(other.stderr).toContain(`cannot list resource "pods" in API group "" in the namespace "default"`);
    const secrets = await asRobot(["get", "secrets", "-n", "rb1"]);
    expect(secrets.stderr).toContain(`secrets is forbidden: User "${SA}" cannot list resource "secrets"`);
    const list = await asRobot(["auth", "can-i", "--list", "-n", "rb1"]);
    expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list.stdout).toContain("selfsubjectaccessreviews.authorization.k8s.io");
  });

  it("needs create on pods/exec for exec, and the impersonate verb for --as", async () => {
    const exec = await asRobot(["exec", "p1", "-n", "rb1", "--", "true"]);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain(
      `cannot create resource "pods/exec" in API group "" in the namespace "rb1"`,
    );
    const imp = await asRobot(["get", "pods", "-n", "rb1", "--as=alice"]);
    expect(imp.stderr).toContain(
      `users "alice" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`,
    );
    // the admin (system:masters) may impersonate, and the impersonated identity is what is authorized
    const asAlice = await t.kubectl(["get", "pods", "-n", "rb1", "--as=alice"], { allowFail: true });
    expect(asAlice.stderr).toContain(`User "alice" cannot list resource "pods"`);
    const whoAs = await t.kubectl([
      "auth",
      "whoami",
      `--as=${SA}`,
      "-o",
      "jsonpath={.status.userInfo.groups}",
    ]);
    expect(JSON.parse(whoAs.stdout)).toEqual([
      "system:serviceaccounts",
      "system:serviceaccounts:rb1",
      "system:authenticated",
    ]);
  });

  it("lets a namespace admin bind what it holds but not cluster-admin (escalation check)", async () => {
    await t.kubectl(["create", "namespace", "rb2"]);
    await t.kubectl([
      "create",
      "rolebinding",
      "robot-admin",
      "--clusterrole=admin",
      "--serviceaccount=rb1:robot",
      "-n",
      "rb2",
    ]);
    await vi.waitFor(
      async () =>
        expect((await asRobot(["auth", "can-i", "create", "rolebindings", "-n", "rb2"])).stdout.trim()).toBe(
          "yes",
        ),
      { timeout: 15_000, interval: 200 },
    );
    const ok = await asRobot([
      "create",
      "rolebinding",
      "bob-view",
      "--clusterrole=view",
      "--user=bob",
      "-n",
      "rb2",
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const esc = await asRobot([
      "create",
      "rolebinding",
      "bob-root",
      "--clusterrole=cluster-admin",
      "--user=bob",
      "-n",
      "rb2",
    ]);
    expect(esc.code).not.toBe(0);
    expect(esc.stderr).toContain(
      `rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "${SA}" (groups=["system:serviceaccounts" "system:serviceaccounts:rb1" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`,
    );
    const role = await asRobot([
      "create",
      "role",
      "node-reader",
      "--verb=get",
      "--resource=nodes",
      "-n",
      "rb2",
    ]);
    expect(role.stderr).toContain('{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
  });

  it("keeps edits to the default policy across restarts and re-creates deleted defaults", async () => {
    const view = JSON.parse((await t.kubectl(["get", "clusterrole", "view", "-o", "json"])).stdout) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(view.metadata.annotations["rbac.authorization.kubernetes.io/autoupdate"]).toBe("true");
    await t.kubectl([
      "annotate",
      "--overwrite",
      "clusterrole",
      "view",
      "rbac.authorization.kubernetes.io/autoupdate=false",
    ]);
    await t.kubectl(["delete", "clusterrolebinding", "system:public-info-viewer"]);
    await t.stop({ keepData: true });
    t = await startHub({ dataDir: t.dataDir });
    const after = await t.kubectl([
      "get",
      "clusterrole",
      "view",
      "-o",
      "jsonpath={.metadata.annotations.rbac\\.authorization\\.kubernetes\\.io/autoupdate}",
    ]);
    expect(after.stdout).toBe("false");
    const crb = await t.kubectl([
      "get",
      "clusterrolebinding",
      "system:public-info-viewer",
      "-o",
      "jsonpath={.subjects[*].name}",
    ]);
    expect(crb.stdout).toBe("system:authenticated system:unauthenticated");
    // the binding made before the restart still grants view (the cache is rebuilt from the store)
    expect((await asRobot(["auth", "can-i", "list", "pods", "-n", "rb1"])).stdout.trim()).toBe("yes");
  });
});
