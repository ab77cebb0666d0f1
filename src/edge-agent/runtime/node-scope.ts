/**
 * Node scoping: every container an agent creates carries `edgekube.io/node=<node>`, and every
 * listing filters on it, so an agent adopts and garbage-collects only its own containers —
 * even when several agents (a dev cluster, tests) share one Docker Engine.
 *
 * Done as a decorator around the dockerode client rather than in each create/list call site,
 * so no code path of the runtime can forget it.
 */
import type Docker from "dockerode";

export const LABEL_NODE = "edgekube.io/node";

type ListOpts = { filters?: { label?: string[] } & Record<string, unknown> } & Record<string, unknown>;

export function scopeToNode(docker: Docker, node: string): Docker {
  const filter = `${LABEL_NODE}=${node}`;
  return new Proxy(docker, {
    get(target, prop, receiver) {
      if (prop === "createContainer") {
        return (opts: Docker.ContainerCreateOptions) =>
          target.createContainer({ ...opts, Labels: { ...(opts.Labels ?? {}), [LABEL_NODE]: node } });
      }
      if (prop === "listContainers") {
        return (opts: ListOpts = {}) =>
          target.listContainers({
            ...opts,
            filters: { ...(opts.filters ?? {}), label: [...(opts.filters?.label ?? []), filter] },
          });
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
