/**
 * Fixture for DockerRuntime integration tests: a runtime on the local dockerd with the busybox
 * test image as sandbox, unique pod identities, temp dirs, and cleanup of every container a test
 * created (found by its pod-uid label, removed by id).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import Docker from "dockerode";
import { DockerRuntime, type PodRuntimeSpec, scopeToNode } from "../../src/edge-agent/runtime/index.js";
import { ensureBusyboxImage } from "./images.js";
import { removePodContainers } from "./pod-containers.js";

export class RuntimeFixture {
  readonly docker = new Docker();
  readonly image = ensureBusyboxImage();
  private readonly uids: string[] = [];
  private readonly dirs: string[] = [];

  /** each fixture is its own "node": listings and orphan removal see only its containers,
   *  so test files sharing one dockerd in parallel never touch each other's pods */
  readonly node = `fixture-${randomUUID().slice(0, 12)}`;

  runtime(): DockerRuntime {
    return new DockerRuntime({ docker: scopeToNode(this.docker, this.node), sandboxImage: this.image });
  }

  /** A pod spec with a fresh uid and name, registered for cleanup. */
  pod(over: Partial<PodRuntimeSpec> & Pick<PodRuntimeSpec, "containers">): PodRuntimeSpec {
    const uid = randomUUID();
    this.uids.push(uid);
    return {
      uid,
      name: `rt-${uid.slice(0, 8)}`,
      namespace: "test",
      terminationGracePeriodSeconds: 5,
      ...over,
    };
  }

  tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), "edgekube-rt-"));
    this.dirs.push(d);
    return d;
  }

  async cleanup(): Promise<void> {
    for (const uid of this.uids.splice(0)) {
      await removePodContainers(this.docker, uid);
    }
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export async function readAll(stream: Readable): Promise<string> {
  let s = "";
  for await (const chunk of stream) s += (chunk as Buffer).toString();
  return s;
}
