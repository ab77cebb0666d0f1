/**
 * The agent's service account tokens on disk, and kubelet's refresh rule.
 *
 * Design notes
 * - Tokens survive an agent restart in one file (DATA_DIR/sa-tokens.json, 0600, replaced
 *   atomically): after a reboot with the hub unreachable, a pod's projected volume is rewritten
 *   with the token it had, instead of losing it (offline autonomy, docs/agent.md). The file is
 *   written only when a token is issued or a pod goes away, about once per pod per 48 minutes.
 * - Refresh (kubelet's token manager): a token is renewed once 80% of its lifetime has passed,
 *   or when it is older than 24 h; it is served until it expires, so a hub that is away for a
 *   while costs nothing until the token's own end.
 * - Keys start with the pod uid, so a removed pod's tokens are dropped by uid.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../../lib/fsutil.js";

export interface CachedToken {
  token: string;
  /** ms since the epoch */
  issuedAt: number;
  expiresAt: number;
}

const MAX_AGE_MS = 24 * 3600_000;

/** kubelet's requiresRefresh: past 80% of the lifetime, or older than 24 h */
export function needsRefresh(t: CachedToken, now: number): boolean {
  const ttl = t.expiresAt - t.issuedAt;
  return now >= t.issuedAt + ttl * 0.8 || now - t.issuedAt > MAX_AGE_MS;
}

export function usable(t: CachedToken, now: number): boolean {
  return now < t.expiresAt;
}

/** cache key: one token per pod, service account, audience and duration */
export function tokenKey(podUID: string, serviceAccount: string, audience: string, seconds: number): string {
  return `${podUID}/${serviceAccount}/${audience}/${seconds}`;
}

function isCached(v: unknown): v is CachedToken {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.token === "string" && typeof o.issuedAt === "number" && typeof o.expiresAt === "number";
}

export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  /** `file` undefined keeps tokens in memory only (tests) */
  constructor(private readonly file?: string) {
    if (!file || !existsSync(file)) return;
    try {
      const raw: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (typeof raw === "object" && raw !== null) {
        for (const [k, v] of Object.entries(raw)) if (isCached(v)) this.tokens.set(k, v);
      }
    } catch {
      // a torn or foreign file: start empty, tokens are asked for again
    }
  }

  get(key: string): CachedToken | undefined {
    return this.tokens.get(key);
  }

  set(key: string, t: CachedToken, now: number): void {
    this.tokens.set(key, t);
    this.dropExpired(now);
    this.save();
  }

  /** Drops tokens of pods not in `liveUIDs` (and expired ones); writes only if something went. */
  prune(liveUIDs: ReadonlySet<string>, now: number): void {
    let changed = this.dropExpired(now);
    for (const key of [...this.tokens.keys()]) {
      if (liveUIDs.has(key.slice(0, key.indexOf("/")))) continue;
      this.tokens.delete(key);
      changed = true;
    }
    if (changed) this.save();
  }

  get size(): number {
    return this.tokens.size;
  }

  private dropExpired(now: number): boolean {
    let changed = false;
    for (const [k, t] of this.tokens) {
      if (usable(t, now)) continue;
      this.tokens.delete(k);
      changed = true;
    }
    return changed;
  }

  private save(): void {
    if (!this.file) return;
    writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.tokens)), 0o600);
  }
}
