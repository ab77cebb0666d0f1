/**
 * bench/api's physical limits, measured in the same run as the hub so that they meet the same
 * machine load: a bare HTTPS echo server (the HTTP+TLS ceiling) and raw kine-style inserts
 * (the storage ceiling). The list's floors live in list-floor.ts.
 *
 * Design notes
 * - The servers run as child processes (node -e) with the hub's own certificate, so they pay
 *   the same TLS cost on their own event loop and their CPU can be read from /proc like the
 *   hub's; they report readiness over the IPC channel.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";

/** The HTTP+TLS ceiling: a bare node:https server echoing each request body with 201. */
export function echoServer(certDir: string, port: number): ChildProcess {
  const code = `const https=require('node:https'),fs=require('node:fs');https.createServer({cert:fs.readFileSync('${certDir}/server.crt'),key:fs.readFileSync('${certDir}/server.key')},(q,s)=>{const c=[];q.on('data',d=>c.push(d));q.on('end',()=>{const b=Buffer.concat(c);s.writeHead(201,{'Content-Type':'application/json','Content-Length':b.length});s.end(b)})}).listen(${port},'127.0.0.1',()=>process.send&&process.send('up'))`;
  return spawn(process.execPath, ["-e", code], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
}

/**
 * The storage ceiling: `creates` kine-style inserts into a fresh file, one transaction each,
 * then in transactions of `groupSize` (the hub's group commit at that concurrency).
 */
export function rawSqlite(
  dir: string,
  creates: number,
  groupSize: number,
  payload: string,
): { perTxnPerSec: number; groupCommitPerSec: number } {
  const db = new Database(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(
    "CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, created INT, deleted INT, create_revision INT, prev_revision INT, value TEXT); CREATE UNIQUE INDEX kv_name_prev ON kv(name, prev_revision)",
  );
  const ins = db.prepare(
    "INSERT INTO kv(name, created, deleted, create_revision, prev_revision, value) VALUES (?, 1, 0, 0, 0, ?)",
  );
  const value = JSON.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "x" },
    data: { p: payload },
  });
  let t0 = performance.now();
  for (let i = 0; i < creates; i++) db.transaction(() => ins.run(`/a/${i}`, value))();
  const perTxn = creates / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const batch = db.transaction((from: number) => {
    for (let i = from; i < from + groupSize; i++) ins.run(`/b/${i}`, value);
  });
  for (let i = 0; i < creates; i += groupSize) batch(i);
  const group = creates / ((performance.now() - t0) / 1000);
  db.close();
  return { perTxnPerSec: perTxn, groupCommitPerSec: group };
}
