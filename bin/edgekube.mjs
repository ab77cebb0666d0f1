#!/usr/bin/env node
// Development launcher: runs the bundle that `npm ci` (prepare) builds from src/cmd.
import { main } from "../dist/edgekube.mjs";

process.exitCode = await main(process.argv.slice(2), "edgekube");
