/**
 * Removing a test's pod containers from dockerd by pod uid (the label every container of a
 * pod carries), for fixtures whose pods may outlive a failed test.
 *
 * Design notes
 * - Workload containers go before the sandbox: the sandbox owns the namespaces the others
 *   joined, and removing it first can leave them failing to stop.
 * - Removal is by container id found through the uid label, never by name; a container that
 *   is already gone is not an error (cleanup must finish after a half-done test).
 */
import type Docker from "dockerode";
import { LABEL_POD_UID } from "../../src/edge-agent/runtime/index.js";

export async function removePodContainers(docker: Docker, uid: string): Promise<void> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_POD_UID}=${uid}`] },
  });
  list.sort(
    (a, b) =>
      Number(a.Labels["edgekube.io/role"] === "sandbox") - Number(b.Labels["edgekube.io/role"] === "sandbox"),
  );
  for (const c of list)
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {});
}
