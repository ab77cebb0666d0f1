/**
 * Event table for core v1 events and events.k8s.io/v1 events:
 * LAST SEEN TYPE REASON OBJECT MESSAGE | wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME.
 *
 * Design notes:
 * - Upstream serves both groups from one storage and one printer over the internal (core) Event,
 *   so an events.k8s.io object is first read through the same field mapping its conversion uses
 *   (regarding → involvedObject, note → message, deprecated* → the old core fields).
 * - Timestamps fall back in upstream's order: first seen = firstTimestamp, else eventTime;
 *   last seen = series.lastObservedTime, else lastTimestamp, else first seen. A singleton event
 *   of the new API has no count and prints 1.
 */
import type { KubeObject } from "../../../api/object.js";
import { D } from "./descriptions.js";
import { parseTime, since } from "./duration.js";
import { column, NAME_COLUMN, nameOf, type TablePrinter, wide } from "./printer.js";

/** The fields of the internal core Event that the printer reads. */
interface EventView {
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
  series?: { count?: number; lastObservedTime?: string };
  involvedObject?: { kind?: string; name?: string; fieldPath?: string };
  source?: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
  type?: string;
  reason?: string;
  message?: string;
}

type CoreEventJson = Omit<EventView, "reportingController"> & { reportingComponent?: string };

interface EventsV1Json {
  regarding?: { kind?: string; name?: string; fieldPath?: string };
  note?: string;
  deprecatedSource?: { component?: string; host?: string };
  deprecatedFirstTimestamp?: string;
  deprecatedLastTimestamp?: string;
  deprecatedCount?: number;
  series?: { count?: number; lastObservedTime?: string };
  eventTime?: string;
  reportingController?: string;
  reportingInstance?: string;
  type?: string;
  reason?: string;
}

function fromCore(obj: KubeObject): EventView {
  const e = obj as CoreEventJson & KubeObject;
  return { ...e, reportingController: e.reportingComponent };
}

function fromEventsV1(obj: KubeObject): EventView {
  const e = obj as EventsV1Json & KubeObject;
  return {
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    eventTime: e.eventTime,
    count: e.deprecatedCount,
    series: e.series,
    involvedObject: e.regarding,
    source: e.deprecatedSource,
    reportingController: e.reportingController,
    reportingInstance: e.reportingInstance,
    type: e.type,
    reason: e.reason,
    message: e.note,
  };
}

/** formatEventSource: "component, host", falling back to reportingController / reportingInstance. */
function formatSource(e: EventView): string {
  const component = e.source?.component || e.reportingController || "";
  const instance = e.source?.host || e.reportingInstance || "";
  return instance ? `${component}, ${instance}` : component;
}

function eventCells(e: EventView, name: string, now: Date): unknown[] {
  const first = parseTime(e.firstTimestamp) ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let last = parseTime(e.lastTimestamp) ? since(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const kind = (e.involvedObject?.kind ?? "").toLowerCase();
  const target = e.involvedObject?.name ? `${kind}/${e.involvedObject.name}` : kind;
  return [
    last,
    e.type ?? "",
    e.reason ?? "",
    target,
    e.involvedObject?.fieldPath ?? "",
    formatSource(e),
    (e.message ?? "").trim(),
    first,
    count,
    name,
  ];
}

const eventColumns = [
  column("Last Seen", "string", D.eventLastTimestamp),
  column("Type", "string", D.eventType),
  column("Reason", "string", D.eventReason),
  column("Object", "string", D.eventInvolvedObject),
  wide("Subobject", "string", D.objectReferenceFieldPath),
  wide("Source", "string", D.eventSource),
  column("Message", "string", D.eventMessage),
  wide("First Seen", "string", D.eventFirstTimestamp),
  wide("Count", "string", D.eventCount),
  { ...NAME_COLUMN, priority: 1 },
];

export const eventPrinter: TablePrinter = {
  columns: eventColumns,
  rows: (obj, now) => [eventCells(fromCore(obj), nameOf(obj), now)],
};

export const eventsV1Printer: TablePrinter = {
  columns: eventColumns,
  rows: (obj, now) => [eventCells(fromEventsV1(obj), nameOf(obj), now)],
};
