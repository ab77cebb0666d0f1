/**
 * The eviction subresource: `POST /api/v1/namespaces/{ns}/pods/{name}/eviction` with a
 * policy/v1 Eviction — a pod deletion that honours PodDisruptionBudgets (what `kubectl
 * drain` sends).
 *
 * Design notes (upstream pkg/registry/core/pod/storage/eviction.go)
 * - Pods that are Pending, Succeeded, Failed or already deleting are deleted without a budget
 *   check; more than one selecting budget is a 500 upstream does not support either.
 * - An unready pod may go without using up a disruption while the budget is otherwise met
 *   (unhealthyPodEvictionPolicy IfHealthyBudget, the default) or always (AlwaysAllow).
 * - Otherwise the budget's status.disruptionsAllowed is decremented and the pod recorded in
 *   status.disruptedPods with an optimistic write, so two concurrent evictions cannot both
 *   spend the last disruption; a conflict re-reads and re-checks. 0 allowed → 429
 *   TooManyRequests with upstream's message and DisruptionBudget cause; kubectl drain
 *   retries those every 5 s.
 */
import type { Pod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1";
import { ApiError } from "../../../api/errors.js";
import { isObject, type KubeObject } from "../../../api/object.js";
import { metaTime } from "../../../api/time.js";
import { type Client, type DeleteOptions, isConflict, isNotFound, refs } from "../../../client/client.js";
import { decodeBody } from "../../apiserver/codec.js";
import { readBody, sendJson } from "../../apiserver/http.js";
import type { SubresourceHandler } from "../../apiserver/router.js";
import { pdbSelectsPod } from "./disruption-controller.js";
import { isPodReady } from "./pdb-status.js";

export const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(causeMessage: string): ApiError {
  return new ApiError(429, "TooManyRequests", EVICTION_REFUSED, {
    causes: [{ reason: "DisruptionBudget", message: causeMessage }],
  });
}

export class Evictor {
  constructor(
    private readonly client: Client,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async evict(namespace: string, name: string, opts: DeleteOptions = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.tryEvict(namespace, name, opts);
        return;
      } catch (e) {
        // the budget changed under us: re-read and re-check
        if (e instanceof BudgetConflict && attempt < 5) continue;
        if (e instanceof BudgetConflict) throw ApiError.conflict("poddisruptionbudgets", e.message, "policy");
        throw e;
      }
    }
  }

  private async tryEvict(namespace: string, name: string, opts: DeleteOptions): Promise<void> {
    const obj = await this.client.get(refs.pods, namespace, name);
    if (!obj) throw ApiError.notFound("pods", name);
    const pod = obj as unknown as Pod;
    const phase = pod.status?.phase;
    const free =
      pod.metadata?.deletionTimestamp || phase === "Pending" || phase === "Succeeded" || phase === "Failed";
    if (!free) {
      const list = await this.client.list(refs.poddisruptionbudgets, namespace);
      const pdbs = list.items.filter((b) => pdbSelectsPod(b, obj));
      if (pdbs.length > 1) {
        throw ApiError.internal(
          "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        );
      }
      const only = pdbs[0];
      if (only) await this.spend(only, obj);
    }
    await this.deletePod(namespace, name, {
      ...opts,
      preconditions: { uid: obj.metadata.uid, ...opts.preconditions },
    });
  }

  private async spend(obj: KubeObject, podObj: KubeObject): Promise<void> {
    const pdb = obj as unknown as PodDisruptionBudget;
    const pod = podObj as unknown as Pod;
    const st: Partial<PodDisruptionBudgetStatus> = pdb.status ?? {};
    if (!isPodReady(pod)) {
      if (pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow") return;
      const desired = st.desiredHealthy ?? 0;
      if (desired > 0 && (st.currentHealthy ?? 0) >= desired) return;
    }
    const pdbName = obj.metadata.name ?? "";
    if ((st.observedGeneration ?? 0) < (obj.metadata.generation ?? 0)) {
      throw tooManyRequests(`The disruption budget ${pdbName} is still being processed by the server.`);
    }
    const allowed = st.disruptionsAllowed ?? 0;
    if (allowed < 0) {
      throw ApiError.forbidden(
        `poddisruptionbudgets.policy "${pdbName}" is forbidden: pdb disruptions allowed is negative`,
      );
    }
    if (allowed === 0) {
      throw tooManyRequests(
        `The disruption budget ${pdbName} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
      );
    }
    const left = allowed - 1;
    const conditions = (st.conditions ?? []).map((c) =>
      c.type === "DisruptionAllowed" && left === 0
        ? {
            ...c,
            status: "False",
            reason: "InsufficientPods",
            message: "",
            lastTransitionTime: metaTime(this.now()),
          }
        : c,
    );
    const next: KubeObject = {
      ...obj,
      status: {
        ...st,
        disruptionsAllowed: left,
        disruptedPods: { ...(st.disruptedPods ?? {}), [podObj.metadata.name ?? ""]: metaTime(this.now()) },
        conditions,
      },
    };
    try {
      await this.client.updateStatus(refs.poddisruptionbudgets, obj.metadata.namespace, next);
    } catch (e) {
      if (isConflict(e)) throw new BudgetConflict(pdbName);
      throw e;
    }
  }

  private async deletePod(namespace: string, name: string, opts: DeleteOptions): Promise<void> {
    try {
      await this.client.delete(refs.pods, namespace, name, opts);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

class BudgetConflict extends Error {
  constructor(pdb: string) {
    super(pdb);
    this.name = "BudgetConflict";
  }
}

/** router extension for `/pods/eviction` */
export function evictionHandler(evictor: Evictor): SubresourceHandler {
  return async (call) => {
    if (call.req.method !== "POST") throw ApiError.methodNotAllowed("eviction only supports create (POST)");
    const body = decodeBody(await readBody(call.req), call.req.headers["content-type"], call.parts.decode);
    const name = call.rr.name ?? "";
    const ns = call.rr.namespace ?? "";
    if (!isObject(body)) throw ApiError.badRequest("the request body must be an Eviction object");
    const meta = isObject(body.metadata) ? body.metadata : {};
    if (typeof meta.name === "string" && meta.name !== "" && meta.name !== name) {
      throw ApiError.badRequest("name in URL does not match name in Eviction object");
    }
    const del = isObject(body.deleteOptions) ? body.deleteOptions : {};
    const opts: DeleteOptions = {};
    if (typeof del.gracePeriodSeconds === "number") opts.gracePeriodSeconds = del.gracePeriodSeconds;
    if (isObject(del.preconditions)) opts.preconditions = del.preconditions as DeleteOptions["preconditions"];
    if (call.query.all("dryRun").length === 0 && !(Array.isArray(del.dryRun) && del.dryRun.length > 0)) {
      await evictor.evict(ns, name, opts);
    }
    sendJson(call.res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
  };
}
