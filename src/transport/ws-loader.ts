/**
 * The `ws` package, loaded on the first WebSocket upgrade instead of with the process.
 *
 * Design notes
 * - An idle hub serves no WebSocket: kubectl's exec/attach/port-forward and MQTT over WebSocket
 *   on /mqtt are the only users, and each starts with an HTTP upgrade the hub answers
 *   asynchronously anyway. Loading `ws` (its receiver, sender, permessage-deflate and node:zlib)
 *   at start kept ≈1 MB of V8 heap and module source resident in every idle hub (issue 2,
 *   docs/apiserver.md "Idle memory"), so the callers import it here, at the first upgrade.
 * - One promise per process: concurrent first upgrades share the same import.
 */

export type WsModule = typeof import("ws");

let loading: Promise<WsModule> | undefined;

/** Resolves to the `ws` module, importing it on the first call. */
export function loadWs(): Promise<WsModule> {
  loading ??= import("ws");
  return loading;
}
