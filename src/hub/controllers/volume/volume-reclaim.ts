/**
 * The volume side of the PV controller: a volume without a claim is Available (and may serve a
 * waiting claim), a volume whose claim exists is Bound, and a volume whose claim is gone is
 * Released and then reclaimed by its policy.
 *
 * Design notes
 * - Reclaim: a Released volume with policy Delete that local-path provisioned is deleted here;
 *   its finalizer `edgekube.io/local-path-cleanup` keeps the object until the node's agent has
 *   removed the directory (no pod of its uses it any more) and reported `pv/<name>`, which the
 *   hub's StatusWriter turns into the finalizer's removal. Retain keeps it Released.
 * - Volumes provisioned before the finalizer existed get it (and the node annotation) on their
 *   next sync, so every local-path volume's directory is cleaned up the same way.
 * - A volume deleted while bound (pv-protection holds it) still goes Released when its claim is
 *   gone, which is what lets that finalizer go; nothing else is done to it.
 */
import type { KubeObject } from "../../../api/object.js";
import { type Client, isNotFound, refs } from "../../../client/client.js";
import { type InformerCache, objectKey } from "../../../client/informer.js";
import { LOCAL_PATH_FINALIZER, LOCAL_PATH_NODE_ANNOTATION } from "../../../storage/names.js";
import { LOCAL_PATH_PROVISIONER } from "./storage-class.js";
import { setPhase } from "./volume-binding.js";
import { ANN_PROVISIONED_BY, claimClass, HOSTNAME_LABEL, phaseOf, pvcSpec, pvSpec } from "./volume-match.js";

export interface VolumeSyncContext {
  client: Client;
  volumes: InformerCache;
  claims: InformerCache;
  /** queues a `claim:<ns>/<name>` key on the controller's queue */
  enqueue(key: string): void;
}

/** one pass over volume `name` (a `volume:<name>` key): phase, a waiting claim, reclaim */
export async function syncVolume(ctx: VolumeSyncContext, name: string): Promise<void> {
  let pv = ctx.volumes.get(name);
  if (!pv) return;
  // a volume deleted while bound (pv-protection holds it) still goes Released when its claim
  // is gone, which is what lets that finalizer go; nothing else is done to it
  const deleting = !!pv.metadata.deletionTimestamp;
  if (
    !deleting &&
    pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER &&
    !pv.metadata.finalizers?.includes(LOCAL_PATH_FINALIZER)
  ) {
    pv = await adoptForCleanup(ctx.client, pv);
  }
  const ref = pvSpec(pv).claimRef;
  if (!ref?.name) {
    if (deleting) return;
    if (phaseOf(pv) !== "Available")
      await setPhase(ctx.client, refs.persistentvolumes, undefined, pv, "Available");
    // a new free volume may serve a waiting claim
    for (const c of ctx.claims.list(
      (c) => !pvcSpec(c).volumeName && claimClass(c) === (pvSpec(pv).storageClassName ?? ""),
    ))
      ctx.enqueue(`claim:${objectKey(c)}`);
    return;
  }
  const claim = ctx.claims.get(`${ref.namespace}/${ref.name}`);
  if (claim && (!ref.uid || claim.metadata.uid === ref.uid)) {
    if (deleting) return;
    if (pvcSpec(claim).volumeName === name && phaseOf(pv) !== "Bound")
      await setPhase(ctx.client, refs.persistentvolumes, undefined, pv, "Bound");
    else if (pvcSpec(claim).volumeName !== name) ctx.enqueue(`claim:${objectKey(claim)}`);
    return;
  }
  if (!ref.uid) return; // pre-bound to a claim that does not exist yet: wait for it
  // the claim is gone: release, then reclaim
  if (phaseOf(pv) !== "Released" && phaseOf(pv) !== "Failed") {
    await setPhase(ctx.client, refs.persistentvolumes, undefined, pv, "Released");
  }
  const policy = pvSpec(pv).persistentVolumeReclaimPolicy ?? "Retain";
  if (
    !deleting &&
    policy === "Delete" &&
    pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER
  ) {
    await ctx.client.delete(refs.persistentvolumes, undefined, name).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }
}

/** a volume provisioned before the cleanup finalizer existed: add it and the node annotation */
function adoptForCleanup(client: Client, pv: KubeObject): Promise<KubeObject> {
  return client.mutate(refs.persistentvolumes, undefined, pv.metadata.name!, (cur) => {
    const terms = pvSpec(cur).nodeAffinity?.required?.nodeSelectorTerms ?? [];
    const node = terms[0]?.matchExpressions?.find((e) => e.key === HOSTNAME_LABEL)?.values?.[0];
    const ann = { ...cur.metadata.annotations };
    if (node && !ann[LOCAL_PATH_NODE_ANNOTATION]) ann[LOCAL_PATH_NODE_ANNOTATION] = node;
    const finalizers = [...(cur.metadata.finalizers ?? [])];
    if (!finalizers.includes(LOCAL_PATH_FINALIZER)) finalizers.push(LOCAL_PATH_FINALIZER);
    return { ...cur, metadata: { ...cur.metadata, annotations: ann, finalizers } };
  });
}
