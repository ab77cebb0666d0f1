/**
 * LoadBalancer controller: writes status.loadBalancer.ingress of type=LoadBalancer Services
 * (klipper-style node addresses by default, address pools when configured) and says with a
 * Warning event why a service stays pending. Agents read the ingress from their cache and
 * program it (src/lb), so the hub never touches a node to serve a LoadBalancer.
 *
 *   Services ─┐
 *   Nodes ────┴─► one key "all" ─► decideLoadBalancers (lb-decide.ts) ─► per service:
 *                                  status differs? updateStatus · pending? Warning event
 *
 * Design notes
 * - Decisions depend on each other (ports per node, shared pool addresses), so every change
 *   enqueues the same key and one reconcile decides all services; the work queue collapses a
 *   burst of changes into one pass. Writes happen only where the status differs.
 * - Status is re-read from the API before it is written (the informer may lag our own last
 *   write), so a burst of passes never fights itself with 409s.
 * - Events: a Warning per pending service when its reason or message changes (not every
 *   pass: the recorder would bump counts forever), a Normal `UpdatedIngressIP` (k3s servicelb's
 *   reason) when the addresses change. The texts come from src/lb and say what to change.
 * - A service that stops being type=LoadBalancer loses the ingress we gave it, as upstream's
 *   service controller does on a type change.
 */
import type { Node, Service } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../../api/object.js";
import { isNotFound, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import type { AddressPool } from "../../../lb/index.js";
import { type ReconcileResult, WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { decideLoadBalancers, ingressText, isOurLoadBalancer, type LbDecision } from "./lb-decide.js";

const COMPONENT = "service-lb-controller";
const ALL = "all";

export interface LoadBalancerControllerOptions {
  /** address pools (MetalLB-style mode); empty or absent: klipper-style node addresses */
  pools?: readonly AddressPool[];
}

export class LoadBalancerController implements Controller {
  readonly name = "loadbalancer-controller";
  readonly services: InformerCache;
  readonly nodes: InformerCache;
  private readonly queue: WorkQueue;
  private readonly pools: readonly AddressPool[];
  /** service key → "reason/message" of the last pending event recorded */
  private readonly warned = new Map<string, string>();

  constructor(
    private readonly deps: ControllerDeps,
    opts: LoadBalancerControllerOptions = {},
  ) {
    this.pools = opts.pools ?? [];
    this.services = deps.informers.informer(refs.services);
    this.nodes = deps.informers.informer(refs.nodes);
    this.queue = new WorkQueue(() => this.reconcile(), {
      concurrency: 1,
      onError: (key, err) =>
        deps.logger.warn({ component: this.name, key, err }, "load balancer pass failed; retrying"),
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    const kick = () => this.queue.add(ALL);
    for (const inf of [this.services, this.nodes])
      inf.addHandlers({ onAdd: kick, onUpdate: kick, onDelete: kick });
    await Promise.all([this.services.start(), this.nodes.start()]);
    signal?.addEventListener("abort", () => this.stop(), { once: true });
  }

  stop(): void {
    this.queue.stop();
    this.services.stop();
    this.nodes.stop();
  }

  /** Resolves when no pass is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Decides every LoadBalancer service and writes what changed. Safe to run twice. */
  async reconcile(): Promise<ReconcileResult> {
    if (!this.services.hasSynced() || !this.nodes.hasSynced()) return { requeueAfterMs: 50 };
    const services = this.services.list() as unknown as Service[];
    // every Node write kicks a pass, so the Node list (a copy of the fleet) is taken only when
    // some service needs it: listing 5,000 Nodes per status write for nothing cost ≈ 0.25 s of
    // a fleet reconnect's hub CPU (bench/sync profile), on top of lb-decide's own early return
    const nodes = services.some(isOurLoadBalancer) ? (this.nodes.list() as unknown as Node[]) : [];
    const decisions = decideLoadBalancers(services, nodes, this.pools);
    const byKey = new Map(decisions.map((d) => [d.key, d]));
    for (const svc of services) {
      const key = `${svc.metadata?.namespace ?? "default"}/${svc.metadata?.name ?? ""}`;
      const d = byKey.get(key);
      if (d) await this.apply(key, d);
      else if (!svc.spec?.loadBalancerClass && ingressText(svc.status?.loadBalancer?.ingress) !== "") {
        // no longer type=LoadBalancer: take our addresses back
        await this.writeIngress(key, []);
      }
      if (!d || d.state === "ready") this.warned.delete(key);
    }
    for (const key of this.warned.keys()) if (!byKey.has(key)) this.warned.delete(key);
  }

  private async apply(key: string, d: LbDecision): Promise<void> {
    if (d.state === "ready") {
      const changed = await this.writeIngress(key, d.ingress);
      if (changed) {
        await this.event(
          key,
          "Normal",
          "UpdatedIngressIP",
          `LoadBalancer Ingress IP addresses updated: ${d.ingress.map((i) => i.ip).join(", ")}`,
        );
      }
      return;
    }
    await this.writeIngress(key, []);
    const text = `${d.reason}/${d.message}`;
    if (this.warned.get(key) === text) return;
    this.warned.set(key, text);
    await this.event(key, "Warning", d.reason, d.message);
  }

  /** Sets status.loadBalancer.ingress when it differs; true when it wrote. */
  private async writeIngress(key: string, ingress: { ip: string }[]): Promise<boolean> {
    const [ns = "", name = ""] = key.split("/");
    const cur = await this.deps.client.get(refs.services, ns, name);
    if (!cur) return false;
    const svc = cur as unknown as Service;
    const want = ingressText(ingress);
    if (ingressText(svc.status?.loadBalancer?.ingress) === want) return false;
    // still ours? (the type may have changed since the informer saw it)
    if (ingress.length > 0 && !isOurLoadBalancer(svc)) return false;
    const next: KubeObject = {
      ...cur,
      status: { ...(cur.status as object), loadBalancer: ingress.length > 0 ? { ingress } : {} },
    };
    try {
      await this.deps.client.updateStatus(refs.services, ns, next);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    this.deps.logger.info(
      { component: this.name, key, ingress: want || "<pending>" },
      "load balancer status",
    );
    return true;
  }

  private async event(key: string, type: "Normal" | "Warning", reason: string, message: string) {
    const svc = this.services.get(key);
    if (!svc) return;
    await this.deps.events.record(
      { ...svc, apiVersion: "v1", kind: "Service" },
      type,
      reason,
      message,
      COMPONENT,
    );
  }
}
