/**
 * The client and the floors of the list benchmarks (bench/api, bench/list).
 *
 * Design notes
 * - listGet is what kubectl's wait looks like from outside: time from the request to the
 *   last byte of the reply, over a kept-alive HTTPS connection, the body counted but not
 *   decoded or parsed (kubectl's decoding is client work the server cannot change). It sends
 *   no Accept-Encoding: the hub does not compress (docs/apiserver.md, "Lists").
 * - The floors run on the same client: the list's SELECT on the hub's own file (raw
 *   better-sqlite3, stepped row by row as the hub's scan does), and a bare node:https server
 *   sending the hub's own list body in 64 KiB writes, with node's default TLS settings
 *   (the same as the hub's), so that the difference between the floor and the hub is what
 *   the hub does, not what TLS or the client costs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:https";
import Database from "better-sqlite3";
import type { Target } from "./https-load.js";

export interface ListTiming {
  firstByteMs: number;
  totalMs: number;
  bytes: number;
}

/** GET `path` and time it to the last byte; `keep` collects the body. */
export function listGet(
  t: Target,
  path: string,
  accept = "application/json",
  keep?: Buffer[],
): Promise<ListTiming> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let bytes = 0;
    const req = request(
      new URL(path, t.url),
      {
        ca: t.ca,
        headers: { ...(t.token ? { Authorization: `Bearer ${t.token}` } : {}), Accept: accept },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
          return;
        }
        res.on("data", (c: Buffer) => {
          if (!first) first = performance.now() - t0;
          bytes += c.length;
          keep?.push(c);
        });
        res.on("end", () => resolve({ firstByteMs: first, totalMs: performance.now() - t0, bytes }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * The floor of a list reply: a bare HTTPS server sending `file` in 64 KiB chunked writes.
 * Unpaced, all writes are issued at once (as the hub's synchronous scan did), and a TLS socket
 * then encrypts and sends all but the first after the loop; `paced` yields one event-loop turn
 * per 256 KiB as the hub's list writer does, so the socket sends while the loop goes on.
 */
export async function bareBodyServer(
  certDir: string,
  port: number,
  file: string,
  paced = false,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const send = paced
    ? "async(q,s)=>{s.writeHead(200,{'Content-Type':'application/json'});for(let i=0;i<b.length;i+=65536){s.write(b.subarray(i,i+65536));if(i%262144===196608)await new Promise(r=>setImmediate(r))}s.end()}"
    : "(q,s)=>{s.writeHead(200,{'Content-Type':'application/json'});for(let i=0;i<b.length;i+=65536)s.write(b.subarray(i,i+65536));s.end()}";
  const code = `const https=require('node:https'),fs=require('node:fs');const b=fs.readFileSync(${JSON.stringify(file)});https.createServer({cert:fs.readFileSync(${JSON.stringify(`${certDir}/server.crt`)}),key:fs.readFileSync(${JSON.stringify(`${certDir}/server.key`)})},${send}).listen(${port},'127.0.0.1',()=>process.send&&process.send('up'))`;
  const p: ChildProcess = spawn(process.execPath, ["-e", code], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  await new Promise((r) => p.once("message", r));
  return {
    url: `https://127.0.0.1:${port}`,
    stop: async () => {
      if (p.exitCode !== null) return;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill();
      await exited;
    },
  };
}

/** The list's SELECT on the hub's file, stepped row by row as the hub's scan does (ms per run). */
export function rawListSelect(dbFile: string, prefix: string, runs = 5): { ms: number[]; rows: number } {
  const db = new Database(dbFile, { readonly: true });
  const latest =
    "SELECT MAX(id) AS id FROM kv WHERE name >= @lo AND name < @hi AND name > '' GROUP BY name ORDER BY name";
  const q = db
    .prepare(
      `SELECT kv.name, kv.value, kv.id FROM (${latest}) AS l CROSS JOIN kv ON kv.id = l.id WHERE kv.deleted = 0`,
    )
    .raw();
  const hi = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = 0;
    for (const _ of q.iterate({ lo: prefix, hi })) rows++;
    ms.push(performance.now() - t0);
  }
  db.close();
  return { ms, rows };
}
