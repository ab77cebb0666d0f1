/**
 * The TLS floor's clients, inside bench/sync's worker processes (sync-agents.ts): every
 * simulated agent connects once to the bare TLS server (tls-floor-server.ts) with exactly what
 * its edge link uses — its own source address, through a PartitionRelay like its link, its
 * client certificate in its one SecureContext, the link's TLS options, and the session ticket
 * of its previous floor connection — and waits for the server's 4 bytes.
 *
 * Design notes
 * - A round starts every agent's connect at once (a storm, as after a hub restart) and resolves
 *   when the last one got its bytes; the first round makes full handshakes and collects the
 *   tickets, the second resumes them. The worker's CPU over the round is the client side's.
 * - Tickets are kept per agent apart from its link's (a ticket is bound to the server that
 *   issued it only through the key; keeping them apart leaves the link's own resumption alone).
 * - A failed connect (a reset while the accept queue overflows) is retried after 0.5 s, up to
 *   5 times, and counted: the floor is what it costs to get everyone through, failures included.
 */
import type { SecureContext } from "node:tls";
import { connect as tlsConnect } from "node:tls";
import { type Dialer, dialWithTimeout } from "../../src/transport/dialer.js";

export interface FloorClient {
  ip: string;
  context: SecureContext;
  /** the ticket of this agent's last floor connection */
  floorSession?: Buffer;
}

export interface FloorRound {
  startedAt: number;
  /** when the last connect of this worker got the server's bytes */
  doneAt: number;
  ok: number;
  resumed: number;
  full: number;
  failedAttempts: number;
  /** agents that never got through (5 failed attempts) */
  gaveUp: number;
  errors: Record<string, number>;
}

const TIMEOUT_MS = 60_000;
const RETRIES = 5;

function connectOnce(c: FloorClient, dial: Dialer, target: { host: string; port: number }) {
  return dialWithTimeout(dial, { ...target, localAddress: c.ip }, TIMEOUT_MS).then(
    (tcp) =>
      new Promise<boolean>((resolve, reject) => {
        tcp.setNoDelay(true);
        const s = tlsConnect({
          socket: tcp,
          secureContext: c.context,
          rejectUnauthorized: true,
          ...(c.floorSession ? { session: c.floorSession } : {}),
        });
        const timer = setTimeout(() => s.destroy(new Error("no answer within 60 s")), TIMEOUT_MS);
        s.on("session", (t: Buffer) => {
          c.floorSession = t;
        });
        s.once("data", () => {
          clearTimeout(timer);
          const resumed = s.isSessionReused();
          s.destroy();
          resolve(resumed);
        });
        s.once("error", (err) => {
          clearTimeout(timer);
          s.destroy();
          reject(err);
        });
        s.once("close", () => {
          clearTimeout(timer);
          reject(new Error("closed before the server's bytes"));
        });
      }),
  );
}

/** One storm: every client connects at once; resolves when all got through or gave up. */
export async function floorRound(
  clients: FloorClient[],
  dial: Dialer,
  target: { host: string; port: number },
): Promise<FloorRound> {
  const r: FloorRound = {
    startedAt: Date.now(),
    doneAt: 0,
    ok: 0,
    resumed: 0,
    full: 0,
    failedAttempts: 0,
    gaveUp: 0,
    errors: {},
  };
  const one = async (c: FloorClient): Promise<void> => {
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      try {
        const resumed = await connectOnce(c, dial, target);
        r.ok++;
        if (resumed) r.resumed++;
        else r.full++;
        r.doneAt = Math.max(r.doneAt, Date.now());
        return;
      } catch (err) {
        r.failedAttempts++;
        const kind = (err as Error).message.replace(/\d+/g, "N").slice(0, 100);
        r.errors[kind] = (r.errors[kind] ?? 0) + 1;
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    r.gaveUp++;
  };
  await Promise.all(clients.map(one));
  return r;
}
