/**
 * Kubernetes' two wire formats for a point in time, as every object field that holds one
 * expects them (apimachinery's metav1.Time and metav1.MicroTime).
 *
 * Design notes
 * - metav1.Time is RFC 3339 in UTC to the whole second ("2026-11-26T20:31:07Z"): condition
 *   transitions, creation and deletion timestamps, events' first/last timestamps. Go's
 *   client decodes fractions, but upstream never writes them, and `kubectl get -o yaml` users
 *   and tools that compare strings expect the short form.
 * - metav1.MicroTime keeps six fractional digits ("2026-11-26T20:31:07.123000Z"): Lease
 *   renewTime/acquireTime and events.k8s.io eventTime. A JavaScript Date holds milliseconds,
 *   so the last three digits are zeros.
 * - Both take the caller's clock: the hub stamps with its own (a Pi without an RTC may not
 *   know the date; see hub/edge/heartbeats.ts), never the device's.
 */

/** metav1.Time: RFC 3339, UTC, whole seconds. */
export function metaTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** metav1.MicroTime: RFC 3339, UTC, microseconds. */
export function microTime(d: Date): string {
  return `${d.toISOString().slice(0, 23)}000Z`;
}
