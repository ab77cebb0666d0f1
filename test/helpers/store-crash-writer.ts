/**
 * Child process for the crash-safety test: writes to a SqliteBackend as fast as group commit
 * allows and prints one line per acknowledged write ("ack <key> <revision> <value>") only
 * after its promise resolved, i.e. after its transaction committed. The parent SIGKILLs it
 * mid-stream. Usage: tsx store-crash-writer.ts <db path>
 */
import { SqliteBackend } from "../../src/hub/store/index.js";

const path = process.argv[2];
if (!path) throw new Error("usage: store-crash-writer <db path>");
const store = new SqliteBackend({
  path,
  compactIntervalMs: 0,
  checkpointIntervalMs: 0,
  walAutocheckpointPages: 64,
});
await store.start();

const revs = new Map<string, number>();
let seq = 0;
for (;;) {
  // one write per key per round, all issued in one turn: one group-commit batch each round
  const ops: Promise<void>[] = [];
  for (let k = 0; k < 40; k++) {
    const key = `/crash/${k}`;
    const value = JSON.stringify({ seq: seq++, pad: "z".repeat(200 + (seq % 300)) });
    const rev = revs.get(key);
    const p = rev === undefined ? store.create(key, value) : store.update(key, value, rev);
    ops.push(
      p.then((kv) => {
        revs.set(key, kv.revision);
        process.stdout.write(`ack ${key} ${kv.revision} ${value}\n`);
      }),
    );
  }
  await Promise.all(ops);
}
