/**
 * The list client's process (bench/lib/list-client.ts forks it): times the lists it is told to
 * send with listGet (list-floor.ts), and its own CPU for each, over one kept-alive HTTPS
 * connection, as bench/list's client does. Nothing else runs in it, so its heap holds only
 * what a list leaves behind (list-client.ts says why that matters).
 */
import { type ListTiming, listGet } from "./list-floor.js";

export type ListClientCommand = {
  cmd: "list";
  url: string;
  ca: string;
  token?: string;
  path: string;
  accept: string;
};

export interface ListClientReply {
  timing: ListTiming;
  /** this process's CPU (user + system) over the list, ms */
  clientCpuMs: number;
}

async function handle(m: ListClientCommand): Promise<ListClientReply> {
  const c0 = process.cpuUsage();
  const timing = await listGet(
    { url: m.url, ca: Buffer.from(m.ca), ...(m.token ? { token: m.token } : {}) },
    m.path,
    m.accept,
  );
  const c = process.cpuUsage(c0);
  return { timing, clientCpuMs: (c.user + c.system) / 1000 };
}

process.on("message", (m: ListClientCommand) => {
  handle(m).then(
    (value) => process.send?.({ ok: true, value }),
    (e: unknown) => process.send?.({ ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
// the parent's exit closes the channel: leave with it
process.on("disconnect", () => process.exit(0));
