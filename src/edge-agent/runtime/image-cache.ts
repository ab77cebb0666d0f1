/**
 * ImageCache: the answer to "is this image here, and what is its id and USER" shared by every
 * pod start for a short while.
 *
 * Design notes
 * - Starting a pod asked Docker to inspect the same image three or four times (pull policy
 *   check, sandbox image, runPod, each app container), and 50 pods started together asked the
 *   same question 200 times. The answer changes only when someone pulls, loads or removes an
 *   image, so a positive answer is kept for `ttlMs` (default 30 s) and concurrent questions
 *   about the same image share one inspect (single flight).
 * - Only presence is cached, never absence: a missing image is asked again on the next start,
 *   so an airgap load or a `docker pull` on the device is seen at once. Pulls and loads also
 *   refresh or clear the entries, and `forget` drops an image that a create reported missing
 *   (removed behind our back inside the TTL): the next attempt inspects again.
 * - `Always` is not cached here: that policy pulls each time by definition (images.ts).
 */
import type Docker from "dockerode";
import { type ImageInfo, inspectLocalImage } from "./images.js";

interface Entry {
  at: number;
  info: Promise<ImageInfo | undefined>;
}

export class ImageCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly docker: Docker,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The local image's facts, or undefined when it is not present (never cached). */
  async inspect(ref: string): Promise<ImageInfo | undefined> {
    const t = this.now();
    const hit = this.entries.get(ref);
    if (hit && t - hit.at < this.ttlMs) return hit.info;
    const info = inspectLocalImage(this.docker, ref);
    const entry = { at: t, info };
    this.entries.set(ref, entry);
    try {
      const r = await info;
      if (r === undefined && this.entries.get(ref) === entry) this.entries.delete(ref);
      return r;
    } catch (err) {
      if (this.entries.get(ref) === entry) this.entries.delete(ref);
      throw err;
    }
  }

  /** Records what a pull just produced (the caller inspected it). */
  remember(ref: string, info: ImageInfo): void {
    this.entries.set(ref, { at: this.now(), info: Promise.resolve(info) });
  }

  /** Drops one image (a create said it is missing) or, without a ref, all (after a load). */
  forget(ref?: string): void {
    if (ref === undefined) this.entries.clear();
    else this.entries.delete(ref);
  }

  get size(): number {
    return this.entries.size;
  }
}
