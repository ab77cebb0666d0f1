/**
 * List coalescing: the per-pod container listings that start in one event-loop turn are served by
 * one `GET /containers/json` of all the agent's containers, split by pod uid here.
 *
 * Design notes
 * - Every pod sync begins with "which containers does this pod have?" (podStatus), and a start
 *   asks again under the pod's lock. A batch of pods therefore sent one list per pod and more,
 *   each filtered by dockerd over all containers under its daemon lock, in between the creates
 *   and starts that are the real work: with 16 pods syncing at once, 16 lists in the same
 *   instant. Coalesced, the workers that start together share one.
 * - Freshness is kept: a caller only joins a list that has not been sent yet (it is sent on the
 *   next turn, setImmediate), so every answer reflects dockerd's state after the call was made,
 *   exactly as a list of its own would. Lists already in flight are never joined.
 * - Only the pod query form is coalesced — `all: true` and label filters exactly [role label,
 *   `io.kubernetes.pod.uid=<uid>`] — and the split compares the same labels dockerd's filter
 *   does (exact key=value), so each caller gets what its own filtered list would have listed.
 *   Other lists (orphan sweeps, listPods, anything with more filters) pass through untouched.
 * - Applied as a decorator around the dockerode client (like node-scope.ts), inside the node
 *   scope: the shared list still carries the node filter.
 */
import type Docker from "dockerode";
import { LABEL_POD_UID, LABEL_ROLE } from "./labels.js";

type ListOpts = { all?: boolean; filters?: { label?: string[] } & Record<string, unknown> } & Record<
  string,
  unknown
>;

/** The pod uid of a coalescable list call, or undefined when it must go to dockerd as it is. */
export function podQueryUid(opts: ListOpts | undefined): string | undefined {
  if (!opts || typeof opts !== "object" || opts.all !== true || !opts.filters) return undefined;
  if (Object.keys(opts).some((k) => k !== "all" && k !== "filters")) return undefined;
  if (Object.keys(opts.filters).some((k) => k !== "label")) return undefined;
  const labels = opts.filters.label ?? [];
  if (labels.length !== 2 || labels[0] !== LABEL_ROLE) return undefined;
  const prefix = `${LABEL_POD_UID}=`;
  const uidFilter = labels[1];
  return uidFilter?.startsWith(prefix) ? uidFilter.slice(prefix.length) : undefined;
}

/** Wraps `docker` so that concurrent per-pod listings share one list (see the notes above). */
export function coalescePodLists(docker: Docker, defer: (f: () => void) => void = setImmediate): Docker {
  let pending: Promise<Docker.ContainerInfo[]> | undefined;
  const shared = (target: Docker): Promise<Docker.ContainerInfo[]> => {
    pending ??= new Promise<Docker.ContainerInfo[]>((resolve, reject) => {
      defer(() => {
        // from here on, new callers wait for the next list: this one may be older than them
        pending = undefined;
        target.listContainers({ all: true, filters: { label: [LABEL_ROLE] } }).then(resolve, reject);
      });
    });
    return pending;
  };
  return new Proxy(docker, {
    get(target, prop, receiver) {
      if (prop === "listContainers") {
        return (...args: unknown[]) => {
          // a callback or any other form goes to dockerode as it is
          const uid = args.length === 1 ? podQueryUid(args[0] as ListOpts) : undefined;
          if (uid === undefined)
            return (target.listContainers as (...a: unknown[]) => unknown).apply(target, args);
          return shared(target).then((all) => all.filter((c) => c.Labels?.[LABEL_POD_UID] === uid));
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
