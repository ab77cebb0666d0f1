/**
 * Binding a claim to a volume, as upstream's PV binder does it (pkg/controller/volume/
 * persistentvolume): the volume first, the claim last, so a crash half-way is repaired by the
 * next pass over either object.
 *
 * Design notes
 * - Order: PV spec.claimRef (plus bound-by-controller when we chose the volume), PV status
 *   Bound, PVC spec.volumeName + bind-completed annotation, PVC status Bound with the volume's
 *   access modes and capacity. Each step is written only when it differs, so a repeated pass
 *   over a bound pair writes nothing.
 * - Every write is a read-modify-write (client.mutate) of the stored object, never of the
 *   cached one, which stays read-only.
 */
import type { KubeObject } from "../../../api/object.js";
import { type Client, refs } from "../../../client/client.js";
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  claimRefOf,
  phaseOf,
  pvcSpec,
  pvSpec,
} from "./volume-match.js";

/** upstream bind(): volume first, claim last; each step only when it differs */
export async function bindClaim(
  client: Client,
  pvc: KubeObject,
  pv: KubeObject,
  byController: boolean,
): Promise<void> {
  const ns = pvc.metadata.namespace!;
  const pvName = pv.metadata.name!;
  const ref = pvSpec(pv).claimRef;
  if (!ref || ref.uid !== pvc.metadata.uid || ref.name !== pvc.metadata.name) {
    pv = await client.mutate(refs.persistentvolumes, undefined, pvName, (cur) => ({
      ...cur,
      metadata: {
        ...cur.metadata,
        annotations: {
          ...cur.metadata.annotations,
          ...(byController ? { [ANN_BOUND_BY_CONTROLLER]: "yes" } : {}),
        },
      },
      spec: { ...(cur.spec as object), claimRef: claimRefOf(pvc) },
    }));
  }
  if (phaseOf(pv) !== "Bound") pv = await setPhase(client, refs.persistentvolumes, undefined, pv, "Bound");
  const ann = pvc.metadata.annotations ?? {};
  if (pvcSpec(pvc).volumeName !== pvName || ann[ANN_BIND_COMPLETED] !== "yes") {
    pvc = await client.mutate(refs.persistentvolumeclaims, ns, pvc.metadata.name!, (cur) => ({
      ...cur,
      metadata: {
        ...cur.metadata,
        annotations: {
          ...cur.metadata.annotations,
          [ANN_BIND_COMPLETED]: "yes",
          ...(byController ? { [ANN_BOUND_BY_CONTROLLER]: "yes" } : {}),
        },
      },
      spec: { ...(cur.spec as object), volumeName: pvName },
    }));
  }
  const st = (pvc.status ?? {}) as {
    phase?: string;
    accessModes?: string[];
    capacity?: Record<string, string>;
  };
  const want = {
    phase: "Bound",
    accessModes: pvSpec(pv).accessModes ?? [],
    capacity: pvSpec(pv).capacity ?? {},
  };
  if (
    st.phase !== "Bound" ||
    JSON.stringify([st.accessModes, st.capacity]) !== JSON.stringify([want.accessModes, want.capacity])
  ) {
    await client.mutate(
      refs.persistentvolumeclaims,
      ns,
      pvc.metadata.name!,
      (cur) => ({ ...cur, status: { ...(cur.status as object), ...want } }),
      { status: true },
    );
  }
}

/** sets status.phase through the status subresource, keeping the rest of the status */
export function setPhase(
  client: Client,
  ref: typeof refs.persistentvolumes | typeof refs.persistentvolumeclaims,
  ns: string | undefined,
  obj: KubeObject,
  phase: string,
): Promise<KubeObject> {
  return client.mutate(
    ref,
    ns,
    obj.metadata.name!,
    (cur) => ({ ...cur, status: { ...(cur.status as object), phase } }),
    { status: true },
  );
}
