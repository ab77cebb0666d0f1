/**
 * One TCP transfer between two network namespaces, as bench/net measures throughput: a node
 * receiver under nsenter counts one connection's bytes from first byte to end, a node sender
 * writes 1 MiB chunks (large writes: busybox nc's small buffers made the tool, not the path,
 * the bottleneck). Both ends are the same programs whatever the path, so only the path differs.
 *
 * Each transfer also records the TCP counters of both namespaces (/proc/net/netstat,
 * /proc/net/snmp): segments queued out of order at the receiver and the sender's
 * retransmissions and D-SACKs (spurious retransmissions). Reordering costs a single flow more
 * than any per-byte CPU on these paths (docs/overlay.md, flow steering), and the counters show
 * it whatever the machine's load.
 */
import { execFileSync, spawn } from "node:child_process";

export const MIB = 1024 * 1024;

export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function listening(netns: string, port: number): boolean {
  const out = execFileSync("nsenter", [`--net=${netns}`, "ss", "-ltnH"], { encoding: "utf8" });
  return out.includes(`:${port} `);
}

/** Receiver: counts one connection's bytes, prints "bytes seconds" from first byte to end. */
const RX = `const s=require("net").createServer(c=>{let n=0,t0=0;c.on("data",d=>{if(!t0)t0=process.hrtime.bigint();n+=d.length});c.on("end",()=>{console.log(n,Number(process.hrtime.bigint()-t0)/1e9);s.close()})});s.listen(+process.argv[1],"0.0.0.0")`;
/** Sender: writes argv[3] bytes in 1 MiB chunks to argv[1]:argv[2]. */
const TX = `const c=require("net").connect(+process.argv[2],process.argv[1],()=>{let left=+process.argv[3];const b=Buffer.alloc(1<<20);const w=()=>{while(left>0){left-=b.length;if(!c.write(b)){c.once("drain",w);return}}c.end()};w()})`;

/** TCP counters of one network namespace (TcpExt from /proc/net/netstat, Tcp from /proc/net/snmp). */
function tcpCounters(netns: string): Map<string, number> {
  const text = execFileSync("nsenter", [`--net=${netns}`, "cat", "/proc/net/netstat", "/proc/net/snmp"], {
    encoding: "utf8",
  });
  const out = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i += 1) {
    const head = lines[i]?.split(" ") ?? [];
    const vals = lines[i + 1]?.split(" ") ?? [];
    if (head[0] !== vals[0] || !head[0]?.endsWith(":") || Number.isNaN(Number(vals[1]))) continue;
    for (let k = 1; k < head.length; k++) out.set(`${head[0]}${head[k]}`, Number(vals[k]));
    i += 1;
  }
  return out;
}

/** The namespace's default TCP congestion control (what both ends of a transfer use). */
export function congestionControl(netns: string): string {
  return execFileSync("nsenter", [`--net=${netns}`, "cat", "/proc/sys/net/ipv4/tcp_congestion_control"], {
    encoding: "utf8",
  }).trim();
}

export interface TransferStats {
  mibps: number;
  /** segments the receiver queued out of order */
  rxOutOfOrder: number;
  /** segments the sender retransmitted, and D-SACKs it got back (retransmissions that were not needed) */
  txRetrans: number;
  txDsacks: number;
}

/** One transfer of `bytes` from netns `fromNs` to `toIp:port` in `toNs`; resolves with MiB/s and counters. */
export async function transfer(
  fromNs: string,
  toNs: string,
  toIp: string,
  port: number,
  bytes: number,
): Promise<TransferStats> {
  const tx0 = tcpCounters(fromNs);
  const rx0 = tcpCounters(toNs);
  const mibps = await transferOnce(fromNs, toNs, toIp, port, bytes);
  const tx1 = tcpCounters(fromNs);
  const rx1 = tcpCounters(toNs);
  const d = (a: Map<string, number>, b: Map<string, number>, k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  return {
    mibps,
    rxOutOfOrder: d(rx0, rx1, "TcpExt:TCPOFOQueue"),
    txRetrans: d(tx0, tx1, "Tcp:RetransSegs"),
    txDsacks: d(tx0, tx1, "TcpExt:TCPDSACKRecv"),
  };
}

async function transferOnce(
  fromNs: string,
  toNs: string,
  toIp: string,
  port: number,
  bytes: number,
): Promise<number> {
  const rx = spawn("nsenter", [`--net=${toNs}`, process.execPath, "-e", RX, String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  rx.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const done = new Promise<void>((r) => rx.on("close", () => r()));
  try {
    await until("the receiver to listen", () => (listening(toNs, port) ? true : undefined), 10_000);
    execFileSync("nsenter", [
      `--net=${fromNs}`,
      process.execPath,
      "-e",
      TX,
      toIp,
      String(port),
      String(bytes),
    ]);
    await done;
    const [got, seconds] = out.trim().split(" ").map(Number);
    if (got !== bytes || !seconds) throw new Error(`received ${out.trim()} (want ${bytes} bytes)`);
    return bytes / MIB / seconds;
  } finally {
    if (rx.exitCode === null) rx.kill();
  }
}

/** Rates and counters of a set of transfers, as the result files list them. */
export function summary(xs: TransferStats[]): {
  mibps: number[];
  rxOutOfOrder: number[];
  txRetrans: number[];
  txDsacks: number[];
} {
  return {
    mibps: xs.map((x) => Math.round(x.mibps)),
    rxOutOfOrder: xs.map((x) => x.rxOutOfOrder),
    txRetrans: xs.map((x) => x.txRetrans),
    txDsacks: xs.map((x) => x.txDsacks),
  };
}
