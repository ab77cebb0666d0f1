/**
 * batch/v1 validation: Job and CronJob (create and update), with a cron-schedule checker.
 *
 * Design notes:
 * - Schedules are checked against the grammar upstream actually runs (robfig/cron's
 *   ParseStandard: 5 fields, day-of-week 0–6, @descriptors, @every <duration>), with its error
 *   texts. cron-parser's grammar differs (it rejects "0 0 31 2 *", accepts "L" and "#"), so it
 *   is left to the CronJob controller for computing run times, not used as the validator.
 * - A Job's template is immutable once created, except the scheduling directives of a Job
 *   that is still suspended (upstream allows those so queueing systems can place it).
 */
import { fieldErr } from "../errors.js";
import { isObject, type JsonObject } from "../object.js";
import { validateLabelSelector } from "./labels.js";
import { validatePodTemplateSpec } from "./pod.js";
import {
  type Causes,
  child,
  deepEqual,
  goSelector,
  goValue,
  immutable,
  isSet,
  nonNegative,
  oneOf,
} from "./util.js";
import { selectorSelectsTemplate } from "./workloads.js";

const FIELD_BOUNDS: readonly (readonly [number, number, Record<string, number>?])[] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [
    1,
    12,
    { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
  ],
  [0, 6, { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }],
];
const DESCRIPTORS = new Set([
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]);

function parseCronInt(s: string, names: Record<string, number> | undefined, expr: string): number {
  const named = names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^-?[0-9]+$/.test(s))
    throw new Error(
      `failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`,
    );
  const n = Number(s);
  if (n < 0) throw new Error(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function checkCronField(
  field: string,
  [min, max, names]: readonly [number, number, Record<string, number>?],
): void {
  for (const expr of field.split(",")) {
    const slash = expr.split("/");
    if (slash.length > 2) throw new Error(`too many slashes: ${expr}`);
    const range = (slash[0] ?? "").split("-");
    if (range.length > 2) throw new Error(`too many hyphens: ${expr}`);
    let start: number;
    let end: number;
    if (range[0] === "*" || range[0] === "?") {
      start = min;
      end = max;
    } else {
      start = parseCronInt(range[0] ?? "", names, expr);
      end = range.length === 2 ? parseCronInt(range[1] ?? "", names, expr) : start;
    }
    if (slash.length === 2) {
      const step = parseCronInt(slash[1] ?? "", undefined, expr);
      if (step <= 0) throw new Error(`step of range should be a positive number: ${expr}`);
      if (range.length === 1 && range[0] !== "*" && range[0] !== "?") end = max;
    }
    if (start < min) throw new Error(`beginning of range (${start}) below minimum (${min}): ${expr}`);
    if (end > max) throw new Error(`end of range (${end}) above maximum (${max}): ${expr}`);
    if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  }
}

/** robfig/cron ParseStandard's verdict: undefined when valid, its error text otherwise */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule.trim();
  if (spec === "") return "empty spec string";
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const i = spec.indexOf(" ");
    const tz = spec.slice(spec.indexOf("=") + 1, i < 0 ? undefined : i);
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
    } catch {
      return `provided bad location ${tz}: unknown time zone ${tz}`;
    }
    spec = i < 0 ? "" : spec.slice(i).trim();
  }
  if (spec.startsWith("@")) {
    if (DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith("@every ")) {
      const d = spec.slice(7).trim();
      return /^([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/.test(d)
        ? undefined
        : `failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(d)}`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`;
  try {
    fields.forEach((f, i) => {
      const bounds = FIELD_BOUNDS[i];
      if (bounds) checkCronField(f, bounds);
    });
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** validateJobSpec, shared by Job and CronJob's jobTemplate */
function validateJobSpec(spec: JsonObject, path: string, generatedSelector: boolean): Causes {
  const out: Causes = [];
  for (const f of [
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "backoffLimit",
    "ttlSecondsAfterFinished",
  ]) {
    out.push(...nonNegative(spec[f], child(path, f)));
  }
  out.push(...oneOf(spec.completionMode, ["NonIndexed", "Indexed"], child(path, "completionMode"), false));
  if (spec.completionMode === "Indexed" && !isSet(spec.completions)) {
    out.push(fieldErr.required(child(path, "completions"), "when completion mode is Indexed"));
  }
  const template = spec.template;
  const selPath = child(path, "selector");
  if (spec.manualSelector === true && !isSet(spec.selector)) out.push(fieldErr.required(selPath));
  if (isSet(spec.selector)) {
    out.push(...validateLabelSelector(spec.selector, selPath));
    if (!generatedSelector || spec.manualSelector === true) {
      out.push(...selectorSelectsTemplate(spec.selector, template, path));
    }
  }
  out.push(...validatePodTemplateSpec(template, child(path, "template"), { skipRestartPolicy: true }));
  const rp = isObject(template) && isObject(template.spec) ? template.spec.restartPolicy : undefined;
  const rpPath = child(path, "template", "spec", "restartPolicy");
  if (rp === undefined || rp === null || rp === "")
    out.push(fieldErr.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== "OnFailure" && rp !== "Never")
    out.push(fieldErr.notSupported(rpPath, rp, ["OnFailure", "Never"]));
  return out;
}

const specOf = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});

export function validateJob(job: JsonObject): Causes {
  const uid = isObject(job.metadata) ? job.metadata.uid : undefined;
  return validateJobSpec(specOf(job), "spec", typeof uid === "string" && uid !== "");
}

// what a suspended Job's template may still change (upstream: mutable scheduling directives)
const SCHEDULING_DIRECTIVES = ["nodeSelector", "tolerations", "affinity", "schedulingGates"];

export function validateJobUpdate(job: JsonObject, old: JsonObject): Causes {
  const spec = specOf(job);
  const prev = specOf(old);
  const out: Causes = [
    ...immutable(spec.selector, prev.selector, "spec.selector", goSelector),
    ...immutable(
      spec.completionMode ?? "NonIndexed",
      prev.completionMode ?? "NonIndexed",
      "spec.completionMode",
    ),
  ];
  const elastic = spec.completionMode === "Indexed" && spec.completions === spec.parallelism;
  if (!elastic) out.push(...immutable(spec.completions, prev.completions, "spec.completions"));
  let next = spec.template;
  if (prev.suspend === true && isObject(next) && isObject(prev.template)) {
    const t: JsonObject = structuredClone(next);
    const ps = isObject(prev.template.spec) ? prev.template.spec : {};
    const ts = isObject(t.spec) ? t.spec : {};
    for (const f of SCHEDULING_DIRECTIVES) ts[f] = ps[f];
    const pm = isObject(prev.template.metadata) ? prev.template.metadata : {};
    const tm = isObject(t.metadata) ? t.metadata : {};
    tm.labels = pm.labels;
    tm.annotations = pm.annotations;
    next = t;
  }
  if (!deepEqual(next, prev.template))
    out.push(fieldErr.invalidRendered("spec.template", goValue(spec.template), "field is immutable"));
  return out;
}

export function validateCronJob(cj: JsonObject): Causes {
  const out: Causes = [];
  const name = isObject(cj.metadata) && typeof cj.metadata.name === "string" ? cj.metadata.name : "";
  if (name.length > 52)
    out.push(fieldErr.invalid("metadata.name", name, "must be no more than 52 characters"));
  const spec = specOf(cj);
  const schedule = typeof spec.schedule === "string" ? spec.schedule : "";
  if (schedule === "") out.push(fieldErr.required("spec.schedule"));
  else {
    const err = cronScheduleError(schedule);
    if (err) out.push(fieldErr.invalid("spec.schedule", schedule, err));
    if (schedule.includes("TZ")) {
      const why = isSet(spec.timeZone)
        ? "cannot use both timeZone field and TZ or CRON_TZ in schedule"
        : "cannot use TZ or CRON_TZ in schedule, use timeZone field instead";
      out.push(fieldErr.invalid("spec.schedule", schedule, why));
    }
  }
  if (typeof spec.timeZone === "string") {
    const tz = spec.timeZone;
    if (tz.toLowerCase() === "local") {
      out.push(
        fieldErr.invalid(
          "spec.timeZone",
          tz,
          "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ),
      );
    } else {
      try {
        new Intl.DateTimeFormat("en", { timeZone: tz });
      } catch {
        out.push(fieldErr.invalid("spec.timeZone", tz, `unknown time zone ${tz}`));
      }
    }
  }
  out.push(...oneOf(spec.concurrencyPolicy, ["Allow", "Forbid", "Replace"], "spec.concurrencyPolicy", false));
  for (const f of ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"]) {
    out.push(...nonNegative(spec[f], `spec.${f}`));
  }
  const jt = isObject(spec.jobTemplate) ? spec.jobTemplate : {};
  const jspec = isObject(jt.spec) ? jt.spec : {};
  if (jspec.manualSelector === true) {
    out.push(fieldErr.notSupported("spec.jobTemplate.spec.manualSelector", true, ["nil", "false"]));
  } else if (isSet(jspec.selector)) {
    out.push(
      fieldErr.invalidRendered(
        "spec.jobTemplate.spec.selector",
        goSelector(jspec.selector),
        "`selector` will be auto-generated",
      ),
    );
  }
  out.push(...validateJobSpec(jspec, "spec.jobTemplate.spec", true));
  return out;
}
