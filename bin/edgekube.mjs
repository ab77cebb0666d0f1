#!/usr/bin/env node
// Development launcher: runs the bundle that `npm ci` (prepare) builds from src/cmd.
import { main, tuneHeap } from "../dist/edgekube.mjs";

// Before the role's code loads (src/lib/heap-tuning.ts says why).
tuneHeap("edgekube", process.argv.slice(2), process.env);

process.exitCode = await main(process.argv.slice(2), "edgekube");
