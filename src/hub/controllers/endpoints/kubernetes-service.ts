/**
 * The `kubernetes` Service in `default` and its Endpoints and EndpointSlice, pointing at the
 * hub (upstream's bootstrap controller and master endpoint reconciler): in-cluster clients
 * reach the API at https://kubernetes.default.svc (10.43.0.1:443 → the hub's address:port).
 *
 * Design notes
 * - The hub's address is what it advertises to nodes (ControllerOptions.apiserverAddress);
 *   the port is the HTTPS port actually bound, so a hub restarted on another port repairs its
 *   objects at start. Without an address only the Service is kept (no usable endpoint).
 * - The Service has no selector, so the Endpoints/EndpointSlice controllers leave these
 *   objects alone; the Endpoints carry `endpointslice.kubernetes.io/skip-mirror: "true"` and the
 *   slice is named `kubernetes` with no managed-by label, exactly as upstream writes them.
 * - Level-triggered: any change to one of the three objects re-runs the same idempotent
 *   reconcile, so a user deleting or editing them gets them back.
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../api/object.js";
import { isConflict, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { WorkQueue } from "../../../lib/workqueue.js";
import type { Controller, ControllerDeps } from "../controller.js";
import { SERVICE_NAME_LABEL } from "./slice-plan.js";

export const KUBERNETES_SERVICE_IP = "10.43.0.1";
const NS = "default";
const NAME = "kubernetes";

export interface ApiserverEndpoint {
  /** the hub's node IP as agents and pods reach it; undefined → no Endpoints */
  address?: string;
  /** the hub's bound HTTPS port */
  port: number;
  /** the service's ClusterIP: the first address of the service CIDR (default 10.43.0.1) */
  serviceIP?: string;
}

export class KubernetesServiceController implements Controller {
  readonly name = "kubernetes-service-controller";
  private readonly informers: InformerCache[];
  private readonly queue: WorkQueue;

  constructor(
    private readonly deps: ControllerDeps,
    private readonly endpoint: ApiserverEndpoint,
  ) {
    this.informers = [refs.services, refs.endpoints, refs.endpointslices].map((r) =>
      deps.informers.informer(r),
    );
    this.queue = new WorkQueue(() => this.reconcile(), {
      onError: (_k, err) => deps.logger.warn({ component: this.name, err }, "reconcile failed; retrying"),
    });
  }

  async start(_signal: AbortSignal): Promise<void> {
    const onChange = (o: KubeObject) => {
      if (o.metadata.name === NAME && o.metadata.namespace === NS) this.queue.add(NAME);
    };
    for (const inf of this.informers)
      inf.addHandlers({ onAdd: onChange, onUpdate: onChange, onDelete: onChange });
    await Promise.all(this.informers.map((i) => i.start()));
    this.queue.add(NAME);
  }

  stop(): void {
    this.queue.stop();
    for (const i of this.informers) i.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async reconcile(): Promise<void> {
    const { address, port } = this.endpoint;
    await this.ensure(
      refs.services,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: NAME, namespace: NS, labels: { component: "apiserver", provider: "kubernetes" } },
        spec: {
          type: "ClusterIP",
          clusterIP: this.endpoint.serviceIP ?? KUBERNETES_SERVICE_IP,
          ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }],
          sessionAffinity: "None",
        },
      },
      (cur, want) => {
        const spec = (cur.spec ?? {}) as Record<string, unknown>;
        const ws = want.spec as Record<string, unknown>;
        return isDeepStrictEqual(spec.ports, ws.ports)
          ? undefined
          : { ...cur, spec: { ...spec, ports: ws.ports } };
      },
    );
    if (!address) return;
    const ports = [{ name: "https", port, protocol: "TCP" }];
    await this.ensure(
      refs.endpoints,
      {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: {
          name: NAME,
          namespace: NS,
          labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
        },
        subsets: [{ addresses: [{ ip: address }], ports }],
      },
      (cur, want) =>
        isDeepStrictEqual(cur.subsets, want.subsets) ? undefined : { ...cur, subsets: want.subsets },
    );
    await this.ensure(
      refs.endpointslices,
      {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: NAME, namespace: NS, labels: { [SERVICE_NAME_LABEL]: NAME } },
        addressType: address.includes(":") ? "IPv6" : "IPv4",
        endpoints: [{ addresses: [address], conditions: { ready: true } }],
        ports,
      },
      (cur, want) =>
        isDeepStrictEqual([cur.endpoints, cur.ports], [want.endpoints, want.ports])
          ? undefined
          : { ...cur, endpoints: want.endpoints, ports: want.ports },
    );
  }

  /** create `want` if missing; else apply `fix` (undefined = already right) */
  private async ensure(
    ref: (typeof refs)[keyof typeof refs],
    want: KubeObject,
    fix: (cur: KubeObject, want: KubeObject) => KubeObject | undefined,
  ): Promise<void> {
    const cur = await this.deps.client.get(ref, NS, NAME);
    if (!cur) {
      try {
        await this.deps.client.create(ref, NS, want);
      } catch (e) {
        if (!isConflict(e)) throw e; // 409 AlreadyExists: another write won; the next event re-checks
      }
      return;
    }
    const next = fix(cur, want);
    if (next) await this.deps.client.update(ref, NS, next);
  }
}
