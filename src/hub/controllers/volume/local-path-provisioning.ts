/**
 * local-path provisioning: a `pvc-<uid>` volume on the node a claim's first consumer runs on
 * (WaitForFirstConsumer), with node affinity to that node and a host directory under the
 * class's base path, then bound to the claim.
 *
 * Design notes
 * - The claim is annotated first (storage-provisioner and selected-node, as upstream's external
 *   provisioner protocol), so the node choice survives a crash before the volume exists.
 * - The volume's name is derived from the claim's uid: a second pass (or a second hub worker)
 *   finds the existing volume instead of creating another; a conflict on create means it was
 *   made concurrently and its watch event brings the claim back.
 * - Capacity guard: the scheduler already filters nodes without room; when the node's reported
 *   free space still does not fit, a ProvisioningFailed event says so and nothing is created.
 */
import type { KubeObject } from "../../../api/object.js";
import { type Client, isConflict, refs } from "../../../client/client.js";
import type { InformerCache } from "../../../client/informer.js";
import { StoragePathError } from "../../../storage/names.js";
import type { EventRecorder } from "../events.js";
import { LOCAL_PATH_PROVISIONER } from "./storage-class.js";
import { bindClaim } from "./volume-binding.js";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  HOSTNAME_LABEL,
  insufficientSpace,
  provisionedVolume,
} from "./volume-match.js";

export interface ProvisionContext {
  client: Client;
  events: EventRecorder;
  /** the volume cache, to find a volume made by an earlier pass */
  volumes: InformerCache;
  /** the component named in events */
  component: string;
}

/** provisions (or finds) the claim's volume on nodeName and binds the two */
export async function provisionLocalPath(
  ctx: ProvisionContext,
  pvc: KubeObject,
  sc: KubeObject,
  nodeName: string,
  node: KubeObject | undefined,
): Promise<void> {
  const ns = pvc.metadata.namespace!;
  const ann = pvc.metadata.annotations ?? {};
  if (ann[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER || ann[ANN_SELECTED_NODE] !== nodeName) {
    pvc = await ctx.client.mutate(refs.persistentvolumeclaims, ns, pvc.metadata.name!, (cur) => ({
      ...cur,
      metadata: {
        ...cur.metadata,
        annotations: {
          ...cur.metadata.annotations,
          [ANN_STORAGE_PROVISIONER]: LOCAL_PATH_PROVISIONER,
          [ANN_BETA_STORAGE_PROVISIONER]: LOCAL_PATH_PROVISIONER,
          [ANN_SELECTED_NODE]: nodeName,
        },
      },
    }));
  }
  const hostname = node?.metadata.labels?.[HOSTNAME_LABEL] ?? nodeName;
  let want: KubeObject;
  try {
    want = provisionedVolume(pvc, sc, hostname, nodeName);
  } catch (e) {
    if (!(e instanceof StoragePathError)) throw e;
    await ctx.events.record(pvc, "Warning", "ProvisioningFailed", e.message, ctx.component);
    return;
  }
  let pv =
    ctx.volumes.get(want.metadata.name!) ??
    (await ctx.client.get(refs.persistentvolumes, undefined, want.metadata.name!));
  if (!pv) {
    const noRoom = insufficientSpace(pvc, sc, nodeName, node);
    if (noRoom) {
      await ctx.events.record(pvc, "Warning", "ProvisioningFailed", noRoom, ctx.component);
      return;
    }
    try {
      pv = await ctx.client.create(refs.persistentvolumes, undefined, want);
    } catch (e) {
      if (!isConflict(e)) throw e;
      return; // created concurrently: its event brings us back
    }
    await ctx.events.record(
      pvc,
      "Normal",
      "ProvisioningSucceeded",
      `Successfully provisioned volume ${want.metadata.name} using ${LOCAL_PATH_PROVISIONER}`,
      ctx.component,
    );
  }
  await bindClaim(ctx.client, pvc, pv, false);
}
