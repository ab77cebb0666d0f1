/**
 * Named errors of the container runtime. Reasons are upstream's container waiting reasons, so
 * the pod manager can copy them into `status.containerStatuses[].state.waiting.reason`.
 */

export type ImagePullReason = "ErrImagePull" | "ErrImageNeverPull" | "InvalidImageName" | "ImageInspectError";

export class ImagePullError extends Error {
  constructor(
    readonly image: string,
    readonly reason: ImagePullReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ImagePullError";
  }
}

export type ContainerConfigReason =
  | "CreateContainerConfigError"
  | "CreateContainerError"
  | "RunContainerError";

/** The container could not be created or started (bad spec, Docker refused it). */
export class ContainerStartError extends Error {
  constructor(
    readonly container: string,
    readonly reason: ContainerConfigReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ContainerStartError";
  }
}

/** An init container exited non-zero: the pod does not proceed to its app containers. */
export class InitContainerError extends Error {
  constructor(
    readonly container: string,
    readonly exitCode: number,
    readonly reason: string,
  ) {
    super(
      `init container "${container}" exited with code ${exitCode} (${reason}); ` +
        "app containers were not started: check its logs (kubectl logs POD -c " +
        `${container})`,
    );
    this.name = "InitContainerError";
  }
}

/** The pod, or the named container in it, has no container in Docker. */
export class PodNotFoundError extends Error {
  constructor(
    readonly podUid: string,
    readonly container?: string,
    detail?: string,
  ) {
    super(
      container === undefined
        ? `pod ${podUid} has no ${detail ?? "containers"} on this node`
        : `container "${container}" of pod ${podUid} not found on this node${detail ? `: ${detail}` : ""}`,
    );
    this.name = "PodNotFoundError";
  }
}

/** Walks the cause chain, as virtual-kubelet's isNotFound does. */
export function isPodNotFound(err: unknown): err is PodNotFoundError {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof PodNotFoundError) return true;
  }
  return false;
}

/** Docker's own "no such container/image" (HTTP 404) from dockerode. */
export function isDockerNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}

/** Docker's "conflict" (HTTP 409), e.g. a container name in use or a removal already in progress. */
export function isDockerConflict(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: unknown }).statusCode === 409;
}

/** Docker's "not modified" (HTTP 304): start of a running or stop of a stopped container. */
export function isDockerNotModified(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: unknown }).statusCode === 304;
}
