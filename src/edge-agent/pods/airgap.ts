/**
 * Airgap images: every `*.tar` in DATA_DIR/images is `docker load`ed at start and whenever one
 * appears or changes (an SD card or USB stick copy, `scp`), so devices without registry access
 * still get their images.
 *
 * Design notes
 * - fs.watch gives prompt notice but is not reliable everywhere (network filesystems, a folder
 *   created after start), so a periodic rescan backs it up. Both only enqueue a scan; scans run
 *   one at a time.
 * - A file is loaded once per (size, mtime): a copy still in progress changes both and is loaded
 *   again when it settles; a failed load (truncated tar) is retried when the file changes.
 * - After a load, `onLoaded` lets the pod manager retry pods waiting in ImagePullBackOff.
 */
import { type FSWatcher, mkdirSync, readdirSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../lib/logger.js";
import type { ContainerRuntime } from "../runtime/runtime.js";
import type { Clock } from "./ports.js";

export interface AirgapOptions {
  dir: string;
  runtime: ContainerRuntime;
  clock: Clock;
  log: Logger;
  rescanMs?: number;
  onLoaded?: (tags: string[]) => void;
}

export class AirgapImages {
  private readonly seen = new Map<string, string>();
  private watcher?: FSWatcher;
  private timer: unknown;
  private scanning?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: AirgapOptions) {}

  /** Loads what is there now, then watches. Resolves after the first scan. */
  async start(): Promise<void> {
    mkdirSync(this.opts.dir, { recursive: true });
    try {
      this.watcher = watch(this.opts.dir, () => this.scan());
      this.watcher.on("error", (err) =>
        this.opts.log.warn({ err }, "watching the airgap image folder failed"),
      );
    } catch (err) {
      this.opts.log.warn(
        { err, dir: this.opts.dir },
        "cannot watch the airgap image folder; rescanning only",
      );
    }
    await this.scan();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.opts.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      void this.scan().finally(() => this.schedule());
    }, this.opts.rescanMs ?? 60_000);
  }

  /** One scan at a time; a request during a scan runs one more afterwards. */
  scan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.scan();
      }
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.opts.dir).filter((n) => n.endsWith(".tar"));
    } catch {
      return;
    }
    const loaded: string[] = [];
    for (const name of names.sort()) {
      const path = join(this.opts.dir, name);
      let stamp: string;
      try {
        const st = statSync(path);
        if (!st.isFile()) continue;
        stamp = `${st.size}:${st.mtimeMs}`;
      } catch {
        continue;
      }
      if (this.seen.get(path) === stamp) continue;
      this.seen.set(path, stamp);
      try {
        const tags = await this.opts.runtime.loadImageTar(path);
        this.opts.log.info({ file: name, tags }, "loaded airgap image tarball");
        loaded.push(...tags);
      } catch (err) {
        this.opts.log.warn(
          { err, file: name },
          "loading an airgap image tarball failed; it is retried when the file changes (is it a complete `docker save` tarball?)",
        );
      }
    }
    if (loaded.length > 0) this.opts.onLoaded?.(loaded);
  }
}
