/**
 * Human-readable durations exactly as apimachinery's pkg/util/duration prints them, because
 * kubectl users compare our AGE / DURATION / RESTARTS "(5m ago)" cells with a real cluster's.
 *
 * Design notes:
 * - Go works on integer nanoseconds and truncates toward zero (`int(d.Seconds())`, `d / time.Minute`);
 *   we get milliseconds and mirror that truncation with Math.trunc, so 119.9s is still "119s".
 * - Up to 2s in the future counts as "now" ("0s"): clocks of the hub and of the agents that wrote a
 *   timestamp are not perfectly in step. Anything further in the future is "<invalid>", as upstream.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** duration.HumanDuration: ~2-3 significant figures ("5s", "2m3s", "10m", "3h5m", "2d3h", "45d", "3y12d"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** duration.ShortHumanDuration: one unit only ("59s", "5m", "23h", "364d", "2y"). */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Parses an RFC 3339 timestamp; undefined for missing or unparsable values (Go's zero Time). */
export function parseTime(ts: unknown): Date | undefined {
  if (typeof ts !== "string" || ts === "") return undefined;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** translateTimestampSince: "<unknown>" for a zero timestamp, else the human duration until `now`. */
export function since(ts: unknown, now: Date): string {
  const t = parseTime(ts);
  if (!t) return "<unknown>";
  return humanDuration(now.getTime() - t.getTime());
}

/** metav1.Time formatted the way the default table convertor prints "Created At" (RFC 3339, UTC, seconds). */
export function rfc3339(ts: unknown): string {
  const t = parseTime(ts);
  if (!t) return "0001-01-01T00:00:00Z";
  return t.toISOString().replace(/\.\d+Z$/, "Z");
}
