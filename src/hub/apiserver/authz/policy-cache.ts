/**
 * RbacPolicyCache: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings held in memory,
 * fed by list+watch on the store, so authorizing a request never queries the database.
 *
 * Design notes
 * - Self-contained on purpose (its own four watches through the Client contract, relist on
 *   410): the hub's shared informers may change under it without touching authorization.
 * - start() resolves once the first lists are in, so the API server never answers with a
 *   policy it has not read yet (a 403 for the admin during start-up would be a lie).
 * - Stored objects are parsed once per event into the plain shapes of rules.ts; bindings are
 *   indexed by namespace, so a request walks the ClusterRoleBindings plus the RoleBindings of
 *   its own namespace only.
 * - Aggregated ClusterRoles (aggregationRule) are resolved here at read time instead of by a
 *   controller writing `rules` back: the union of the rules of every ClusterRole whose labels
 *   match one of the selectors, recursively, memoised until the next ClusterRole change.
 */
import { isObject, type KubeObject } from "../../../api/object.js";
import { type LabelMatcher, labelSelectorMatcher } from "../../../api/selectors.js";
import type { Client, ClientWatch, ClientWatchEvent, ResourceRef } from "../../../client/client.js";
import type { Logger } from "../../../lib/logger.js";
import { type Binding, type PolicyRule, type RoleRef, toPolicyRule, toSubjects } from "./rules.js";

const RBAC = "rbac.authorization.k8s.io";
export const rbacRefs = {
  roles: { group: RBAC, version: "v1", resource: "roles" },
  clusterroles: { group: RBAC, version: "v1", resource: "clusterroles" },
  rolebindings: { group: RBAC, version: "v1", resource: "rolebindings" },
  clusterrolebindings: { group: RBAC, version: "v1", resource: "clusterrolebindings" },
} satisfies Record<string, ResourceRef>;

type Kind = keyof typeof rbacRefs;

/** what the authorizer reads; the cache implements it, unit tests may fill one by hand */
export interface PolicySource {
  clusterRoleBindings(): Iterable<Binding>;
  roleBindings(namespace: string): Iterable<Binding>;
  /** the rules of the role a binding in `namespace` refers to; undefined when it does not exist */
  rulesOf(ref: RoleRef, namespace: string): readonly PolicyRule[] | undefined;
}

interface ClusterRoleEntry {
  labels: Record<string, string>;
  rules: PolicyRule[];
  /** present for aggregated ClusterRoles: their `rules` field is ignored */
  aggregation?: LabelMatcher[];
}

export class RbacPolicyCache implements PolicySource {
  private readonly clusterRoles = new Map<string, ClusterRoleEntry>();
  private readonly roles = new Map<string, Map<string, PolicyRule[]>>();
  private readonly crbs = new Map<string, Binding>();
  private readonly rbs = new Map<string, Map<string, Binding>>();
  private aggregated = new Map<string, PolicyRule[]>();
  private readonly watches = new Map<Kind, ClientWatch>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly deps: { client?: Client; logger?: Logger } = {}) {}

  /** lists all four kinds, then follows their watches; rejects if the first lists fail */
  async start(signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    await Promise.all((Object.keys(rbacRefs) as Kind[]).map((k) => this.relist(k)));
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) w.cancel();
    this.watches.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async relist(kind: Kind): Promise<void> {
    const client = this.deps.client;
    if (!client || this.stopped) return;
    this.watches.get(kind)?.cancel();
    const list = await client.list(rbacRefs[kind]);
    this.clear(kind);
    for (const o of list.items) this.upsert(kind, o);
    const w = client.watch(
      rbacRefs[kind],
      undefined,
      list.resourceVersion,
      (events) => this.onEvents(kind, events),
      (err, expired) => {
        if (this.stopped) return;
        this.deps.logger?.warn({ err, kind, expired }, "RBAC watch ended; relisting");
        this.retry(kind, expired ? 0 : 1000);
      },
    );
    this.watches.set(kind, w);
  }

  private retry(kind: Kind, delayMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.relist(kind).catch((err: unknown) => {
        this.deps.logger?.error({ err, kind }, "RBAC relist failed; retrying");
        this.retry(kind, 1000);
      });
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  private onEvents(kind: Kind, events: ClientWatchEvent[]): void {
    for (const e of events) {
      if (e.type === "DELETED") this.remove(kind, e.object);
      else this.upsert(kind, e.object);
    }
  }

  private clear(kind: Kind): void {
    if (kind === "clusterroles") {
      this.clusterRoles.clear();
      this.aggregated = new Map();
    } else if (kind === "roles") this.roles.clear();
    else if (kind === "rolebindings") this.rbs.clear();
    else this.crbs.clear();
  }

  /** apply a stored object of `kind` (also used by unit tests to fill the cache) */
  upsert(kind: Kind, obj: KubeObject): void {
    const name = obj.metadata.name ?? "";
    const ns = obj.metadata.namespace ?? "";
    switch (kind) {
      case "clusterroles": {
        const entry: ClusterRoleEntry = {
          labels: { ...(obj.metadata.labels ?? {}) },
          rules: rulesOf(obj),
        };
        const agg = isObject(obj.aggregationRule) ? obj.aggregationRule.clusterRoleSelectors : undefined;
        if (Array.isArray(agg)) entry.aggregation = agg.map(safeMatcher);
        this.clusterRoles.set(name, entry);
        this.aggregated = new Map();
        return;
      }
      case "roles":
        mapIn(this.roles, ns).set(name, rulesOf(obj));
        return;
      case "rolebindings":
        mapIn(this.rbs, ns).set(name, toBinding("RoleBinding", obj));
        return;
      case "clusterrolebindings":
        this.crbs.set(name, toBinding("ClusterRoleBinding", obj));
        return;
    }
  }

  remove(kind: Kind, obj: KubeObject): void {
    const name = obj.metadata.name ?? "";
    const ns = obj.metadata.namespace ?? "";
    if (kind === "clusterroles") {
      this.clusterRoles.delete(name);
      this.aggregated = new Map();
    } else if (kind === "roles") this.roles.get(ns)?.delete(name);
    else if (kind === "rolebindings") this.rbs.get(ns)?.delete(name);
    else this.crbs.delete(name);
  }

  clusterRoleBindings(): Iterable<Binding> {
    return this.crbs.values();
  }

  roleBindings(namespace: string): Iterable<Binding> {
    return this.rbs.get(namespace)?.values() ?? [];
  }

  rulesOf(ref: RoleRef, namespace: string): readonly PolicyRule[] | undefined {
    if (ref.kind === "Role") return this.roles.get(namespace)?.get(ref.name);
    return this.clusterRoleRules(ref.name, new Set());
  }

  private clusterRoleRules(name: string, visiting: Set<string>): PolicyRule[] | undefined {
    const entry = this.clusterRoles.get(name);
    if (!entry) return undefined;
    if (!entry.aggregation) return entry.rules;
    const memo = this.aggregated.get(name);
    if (memo) return memo;
    visiting.add(name);
    const out: PolicyRule[] = [];
    for (const [other, e] of this.clusterRoles) {
      if (visiting.has(other) || !entry.aggregation.some((m) => m.matches(e.labels))) continue;
      out.push(...(this.clusterRoleRules(other, visiting) ?? []));
    }
    visiting.delete(name);
    this.aggregated.set(name, out);
    return out;
  }
}

function rulesOf(obj: KubeObject): PolicyRule[] {
  return Array.isArray(obj.rules) ? obj.rules.map(toPolicyRule) : [];
}

function toBinding(kind: Binding["kind"], obj: KubeObject): Binding {
  const ref = isObject(obj.roleRef) ? obj.roleRef : {};
  const namespace = kind === "RoleBinding" ? (obj.metadata.namespace ?? "") : "";
  return {
    kind,
    name: obj.metadata.name ?? "",
    namespace,
    subjects: toSubjects(obj.subjects, namespace),
    roleRef: { kind: ref.kind === "Role" ? "Role" : "ClusterRole", name: String(ref.name ?? "") },
  };
}

/** a selector the API accepted but we cannot read selects nothing rather than failing requests */
function safeMatcher(sel: unknown): LabelMatcher {
  try {
    return labelSelectorMatcher(sel);
  } catch {
    return labelSelectorMatcher(undefined);
  }
}

function mapIn<V>(m: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = m.get(key);
  if (!inner) {
    inner = new Map();
    m.set(key, inner);
  }
  return inner;
}
