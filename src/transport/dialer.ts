/**
 * The edge link's TCP connect, with its own short timeout, before TLS and MQTT start.
 *
 * Design notes
 * - mqtt.js' connectTimeout runs from the start of the TCP connect to CONNACK, so a SYN lost in a
 *   black hole and a hub slow to answer a handshake looked the same: both waited 30 s. Dialing
 *   ourselves splits them: the TCP connect gets `timeoutMs` (3.5 s by default: Linux retransmits
 *   a lost SYN after 1 s and 3 s, so a lossy but working link still connects), and a timeout here
 *   fails with code ETIMEDOUT, which ReconnectPolicy reads as "unreachable" (probe again soon).
 *   While an outage is young the policy shortens it for probes (reconnect-policy.ts).
 *   Everything after the TCP connect (TLS, CONNACK) keeps the long timeout: the hub answered.
 * - The dial itself is injectable (`Dialer`): production uses node:net; bench/sync wires a dialer
 *   that models a DROP partition faithfully (the connect neither completes nor fails until this
 *   timeout aborts it). The dialer must honour the abort signal and destroy what it started.
 */
import { connect, type Socket } from "node:net";

export interface DialTarget {
  host: string;
  port: number;
  /** source address (a device with several uplinks; bench/sync gives each agent its own) */
  localAddress?: string;
}

/** Resolves a connected TCP socket; rejects with the socket error, or when `signal` aborts. */
export type Dialer = (target: DialTarget, signal: AbortSignal) => Promise<Socket>;

/** default TCP connect timeout (see the design notes) */
export const TCP_CONNECT_TIMEOUT_MS = 3_500;

export class TcpConnectTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(target: DialTarget, ms: number) {
    super(
      `no answer from the hub at ${target.host}:${target.port} within ${ms} ms (TCP connect): the network ` +
        "to the hub is down or drops packets; retrying shortly",
    );
    this.name = "TcpConnectTimeoutError";
  }
}

/** node:net connect, settled by the connect or the first error. */
export const netDialer: Dialer = (target, signal) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason);
    };
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve(socket);
    });
    const onError = (err: Error): void => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(err);
    };
    socket.once("error", onError);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Dials with a timeout. `cancel` (the link stopping) aborts too, rejecting with its reason.
 * The timeout rejects with TcpConnectTimeoutError.
 */
export async function dialWithTimeout(
  dial: Dialer,
  target: DialTarget,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<Socket> {
  const ac = new AbortController();
  // the error (message, stack) is made only when the timeout fires, not on every dial
  const timer = setTimeout(() => ac.abort(new TcpConnectTimeoutError(target, timeoutMs)), timeoutMs);
  const onCancel = (): void => ac.abort(cancel?.reason);
  cancel?.addEventListener("abort", onCancel, { once: true });
  try {
    return await dial(target, ac.signal);
  } catch (err) {
    throw ac.signal.aborted && ac.signal.reason instanceof TcpConnectTimeoutError ? ac.signal.reason : err;
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener("abort", onCancel);
  }
}
