/**
 * Images: pull policy, registry pulls with credentials, and airgap tarballs.
 *
 * Design notes
 * - The decision table is the kubelet's image manager: Never → must be present; IfNotPresent →
 *   pull only when missing; Always → pull, and a failed pull is an error even when an older copy
 *   is present (upstream does the same: Always means the registry is the source of truth).
 * - Docker reports pull failures two ways: the HTTP call fails (bad name, DNS, auth) or the
 *   progress stream carries `{error}` after a 200. Both become ImagePullError(ErrImagePull) with
 *   Docker's own text, since that text ("no such host", "pull access denied") is what tells a
 *   person what to fix. Back-off (ImagePullBackOff) is the pod manager's.
 * - Airgap: `docker load` of tarballs dropped into the agent's image folder, so devices without
 *   registry access get their images from the SD card or a USB stick.
 */
import { createReadStream } from "node:fs";
import type Docker from "dockerode";
import { ImagePullError, isDockerNotFound } from "./errors.js";
import type { ImageCache } from "./image-cache.js";
import type { PullPolicy, RegistryAuth } from "./runtime.js";

export interface ImageInfo {
  imageID: string;
  /** the image's configured USER ("" for root) */
  user: string;
}

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REF = new RegExp(
  `^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*` +
    "(?::[\\w][\\w.-]{0,127})?(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$",
);

export function isValidImageRef(ref: string): boolean {
  return ref.length > 0 && ref.length <= 4096 && IMAGE_REF.test(ref);
}

function dockerMessage(err: unknown): string {
  if (typeof err === "object" && err !== null) {
    const json = (err as { json?: unknown }).json;
    if (
      typeof json === "object" &&
      json !== null &&
      typeof (json as { message?: unknown }).message === "string"
    ) {
      return (json as { message: string }).message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** Local image facts, or undefined when the image is not present. */
export async function inspectLocalImage(docker: Docker, ref: string): Promise<ImageInfo | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return { imageID: info.Id, user: info.Config?.User ?? "" };
  } catch (err) {
    if (isDockerNotFound(err)) return undefined;
    throw new ImagePullError(
      ref,
      "ImageInspectError",
      `Failed to inspect image "${ref}": ${dockerMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}

export async function pullImage(docker: Docker, ref: string, auth?: RegistryAuth): Promise<void> {
  const fail = (err: unknown): ImagePullError =>
    new ImagePullError(
      ref,
      "ErrImagePull",
      `Failed to pull image "${ref}": ${dockerMessage(err)}. Check the image name and tag, the node's registry ` +
        "access, and imagePullSecrets; or place the image in the agent's airgap image folder.",
      { cause: err },
    );
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(ref, auth ? { authconfig: auth } : {});
  } catch (err) {
    throw fail(err);
  }
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(fail(err)) : resolve()));
  });
}

export async function ensureImage(
  docker: Docker,
  ref: string,
  policy: PullPolicy = "IfNotPresent",
  auth?: RegistryAuth,
  cache?: ImageCache,
): Promise<ImageInfo> {
  if (!isValidImageRef(ref)) {
    throw new ImagePullError(
      ref,
      "InvalidImageName",
      `Failed to apply default image tag "${ref}": couldn't parse image reference: fix the container's image field`,
    );
  }
  if (policy !== "Always") {
    const local = cache ? await cache.inspect(ref) : await inspectLocalImage(docker, ref);
    if (local) return local;
    if (policy === "Never") {
      throw new ImagePullError(
        ref,
        "ErrImageNeverPull",
        `Container image "${ref}" is not present with pull policy of Never: load it on the node ` +
          "(airgap image folder) or change imagePullPolicy",
      );
    }
  }
  await pullImage(docker, ref, auth);
  const pulled = await inspectLocalImage(docker, ref);
  if (!pulled)
    throw new ImagePullError(ref, "ErrImagePull", `image "${ref}" is missing right after a successful pull`);
  cache?.remember(ref, pulled);
  return pulled;
}

/** `docker load` of one tarball; resolves with the tags (or ids, for untagged images) it loaded. */
export async function loadImageTar(docker: Docker, path: string): Promise<string[]> {
  const res = await docker.loadImage(createReadStream(path), { quiet: true });
  let body = "";
  for await (const chunk of res as AsyncIterable<Buffer | string>) body += chunk.toString();
  const loaded: string[] = [];
  for (const line of body.split("\n")) {
    if (!line.trim()) continue;
    let msg: { stream?: unknown; error?: unknown };
    try {
      msg = JSON.parse(line) as { stream?: unknown; error?: unknown };
    } catch {
      continue;
    }
    if (typeof msg.error === "string") {
      throw new Error(
        `loading image tarball ${path} failed: ${msg.error}: check that it was made with docker save`,
      );
    }
    const m = typeof msg.stream === "string" ? /^Loaded image(?: ID)?: (.+)$/m.exec(msg.stream) : null;
    if (m?.[1]) loaded.push(m[1].trim());
  }
  if (loaded.length === 0)
    throw new Error(`loading image tarball ${path} loaded no image: is it a docker save archive?`);
  return loaded;
}
