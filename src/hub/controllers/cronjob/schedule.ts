/**
 * CronJob schedules: upstream's robfig/cron standard parser semantics on cron-parser.
 *
 * Design notes
 * - Exactly five fields (minute hour dom month dow) or a macro (@yearly/@annually,
 *   @monthly, @weekly, @daily/@midnight, @hourly); cron-parser's optional seconds field and
 *   its extra macros are rejected, as the API would.
 * - Time zone: spec.timeZone, or a `CRON_TZ=`/`TZ=` prefix in the schedule (upstream
 *   still honours the prefix when timeZone is unset); UTC otherwise (the hub's zone is not
 *   a contract on edge fleets).
 * - mostRecent() is upstream's mostRecentScheduleTime: the latest time in (earliest, now]
 *   plus how many were missed; counting stops past 100, where upstream warns.
 * - cron-parser (and luxon under it, ≈1 MB of heap and their source text) loads on the first
 *   CronJob, not with every hub: callers `await loadCronParser()` before parseSchedule, which
 *   stays synchronous for the reconcile loop.
 */
type CronParser = typeof import("cron-parser").CronExpressionParser;

let cronParser: CronParser | undefined;

/** loads cron-parser once; parseSchedule needs it */
export async function loadCronParser(): Promise<void> {
  cronParser ??= (await import("cron-parser")).CronExpressionParser;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

export class UnknownTimeZoneError extends Error {
  constructor(readonly timeZone: string) {
    super(`unknown time zone ${timeZone}; use an IANA name such as "Etc/UTC" or "Europe/Berlin"`);
    this.name = "UnknownTimeZoneError";
  }
}

export interface Schedule {
  readonly expression: string;
  readonly timeZone: string;
  /** first schedule time strictly after `t` */
  next(t: Date): Date;
  /** latest schedule time in (earliest, now], how many were missed (capped at 101) */
  mostRecent(earliest: Date, now: Date): { time: Date | undefined; missed: number };
}

function checkZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new UnknownTimeZoneError(tz);
  }
}

export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  let expr = schedule.trim();
  let tz = timeZone && timeZone !== "" ? timeZone : "UTC";
  const prefix = /^(CRON_TZ|TZ)=(\S+)\s+/.exec(expr);
  if (prefix) {
    if (!timeZone) tz = prefix[2] ?? "UTC";
    expr = expr.slice(prefix[0].length).trim();
  }
  checkZone(tz);
  const macro = MACROS[expr.toLowerCase()];
  if (macro) expr = macro;
  else if (expr.startsWith("@")) throw new ScheduleError(`unrecognized descriptor: ${expr}`);
  const fields = expr.split(/\s+/);
  if (fields.length !== 5)
    throw new ScheduleError(`expected exactly 5 fields, found ${fields.length}: ${expr}`);
  const parser = cronParser;
  if (!parser) throw new Error("parseSchedule called before loadCronParser(): await it first");
  const iter = (currentDate: Date) => parser.parse(expr, { currentDate, tz });
  try {
    iter(new Date(0)).next();
  } catch (e) {
    throw new ScheduleError((e as Error).message);
  }
  return {
    expression: expr,
    timeZone: tz,
    next: (t) => iter(t).next().toDate(),
    mostRecent(earliest, now) {
      const it = iter(earliest);
      let time: Date | undefined;
      let missed = 0;
      for (;;) {
        const n = it.next().toDate();
        if (n.getTime() > now.getTime()) break;
        time = n;
        missed++;
        if (missed > 100) {
          // too many to walk: jump to the latest one directly
          time = iter(new Date(now.getTime() + 1))
            .prev()
            .toDate();
          break;
        }
      }
      return { time, missed };
    },
  };
}

/** RFC 3339 in the schedule's zone, for `batch.kubernetes.io/cronjob-scheduled-timestamp` */
export function formatInZone(d: Date, tz: string): string {
  if (tz === "UTC" || tz === "Etc/UTC") return d.toISOString().replace(/\.\d{3}Z$/, "Z");
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  const offMin = Math.round((local - Math.floor(d.getTime() / 1000) * 1000) / 60000);
  if (offMin === 0)
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`;
  const sign = offMin > 0 ? "+" : "-";
  const abs = Math.abs(offMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}
