/**
 * RequestDrain: the requests the API server is answering, so that a stopping hub lets them
 * finish instead of cutting them (kube-apiserver's graceful termination, in small).
 *
 * Design notes
 * - On stop the server stops accepting connections, then waits up to `DRAIN_MS` for the
 *   requests already being answered (a `kubectl apply` half-way through its body, a create
 *   waiting for its group commit), and only then closes what is left. Cut instead, such a
 *   request fails on the client with a reset and leaves it unsure whether the write landed;
 *   the store stays open until the drain is over (hub.ts closes it last).
 * - Long-running requests are not waited for: watches (`watch=1|true`, `/watch/` paths) and
 *   followed logs (`follow=true`) never end on their own. They are closed with the rest, as
 *   upstream closes watches at shutdown; clients re-list and re-watch. Upgraded streams (exec,
 *   attach, port-forward, MQTT over WebSocket) never reach here: they leave HTTP at the upgrade.
 * - The bound is short (a Pi's systemd allows 90 s to stop, and a restart should be quick);
 *   upstream's 60 s request timeout is for servers behind load balancers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** how long a stopping API server waits for the requests it is answering */
export const DRAIN_MS = 5_000;

/** whether a request stays open by design (watch, followed log): see the design notes */
export function isLongRunning(url: string | undefined): boolean {
  // every request passes here: most name neither, and need no URL parse
  if (url === undefined || (!url.includes("watch") && !url.includes("follow"))) return false;
  const u = new URL(url, "https://hub");
  const watch = u.searchParams.get("watch");
  if (watch === "true" || watch === "1") return true;
  if (/^\/(api\/v1|apis\/[^/]+\/[^/]+)\/watch\//.test(u.pathname)) return true;
  return u.pathname.endsWith("/log") && u.searchParams.get("follow") === "true";
}

export class RequestDrain {
  private readonly answering = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];

  /** Counts `res` as being answered until it closes (finished or cut), unless long-running. */
  track(req: IncomingMessage, res: ServerResponse): void {
    if (isLongRunning(req.url)) return;
    this.answering.add(res);
    res.once("close", () => {
      this.answering.delete(res);
      if (this.answering.size === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  /** requests being answered now (long-running ones excluded) */
  get size(): number {
    return this.answering.size;
  }

  /** Resolves once no tracked request is left, or after `ms`, whichever comes first. */
  drain(ms: number): Promise<void> {
    if (this.answering.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}
