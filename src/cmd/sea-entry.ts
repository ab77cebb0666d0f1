/**
 * Entry point of the single executable (scripts/build-release.mjs bundles this file as CommonJS
 * and injects it into a Node binary as a SEA blob).
 *
 * Inside a SEA, process.argv is [execPath, argv0, ...args] (Node repeats argv0 where a script
 * path would be), and process.execPath is the resolved binary, not a symlink to it. The name the
 * user typed survives only in process.argv0, so `edge-hub` and `edge-agent` symlinks to one
 * `edgekube` binary dispatch on it. Under qemu-user (binfmt_misc without the P flag) argv0 is
 * the path of the file that was run, which still names the symlink.
 */
import { main, tuneHeap } from "./main.js";

// Before the role's code loads (src/lib/heap-tuning.ts says why).
tuneHeap(process.argv0, process.argv.slice(2), process.env);

main(process.argv.slice(2), process.argv0).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`edgekube: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
