/**
 * V8 heap tuning for the two long-running processes, applied by the process entry points
 * (bin/*.mjs, src/cmd/sea-entry.ts) before the role's code is loaded.
 *
 * Design notes
 * - An idle agent or hub keeps little young-generation data, but V8 grows the new space
 *   (two semi-spaces) from 1 MiB up to 16 MiB each as start-up allocates, and keeps it: on
 *   node 20 that is ≈8–10 MiB of RSS nobody uses while idle (issues 2 and 5). The SEA cannot
 *   take command-line V8 flags and re-executing costs a second start, so the flag is set at run
 *   time with v8.setFlagsFromString. `--max-semi-space-size` is read only when the heap is
 *   created and has no effect then; `--semi-space-growth-factor=1` is read at each resize and
 *   does, keeping the semi-spaces at their initial size.
 * - V8's optimizing compiler (TurboFan) optimizes much of the start-up code on the way up, and
 *   the compiled code and the compiler's retained memory stay: measured on the hub (restart on an
 *   existing data dir, load ≈10) 86 → 67 MiB with a 10× interrupt budget, so that only code
 *   that stays hot under load (request handling, codecs) is optimized. The API bench's
 *   creates/echo ratio was not lower with it (0.72 vs 0.37–0.42 in short, noisy runs).
 *   Since the hub also starts without TurboFan (below), it returns to V8's own budget once it
 *   serves (tuneAfterStart): with the 10× budget kept, a later A/B of the hub's CPU per create
 *   (hubs side by side, same load) gave 0.445 ms against 0.282 ms with V8's budget after start,
 *   and idle RSS was the same either way (hub-idle, fresh 57.6–57.7 / restart 57.4 MB, load 6–8).
 * - The agent did not gain from the budget (76 → 78 MiB, noise) but did from `--no-opt`
 *   (76 → 67.5 MiB idle in bench/pods --idle-only): its work is I/O (Docker, MQTT, SQLite,
 *   streams in native code), and a pure-JS codec loop (envelope + mqtt-packet) ran 1.3–2× slower
 *   without TurboFan. Edge devices are memory-bound first, so the agent runs without it.
 * - The agent also runs with `--optimize-for-size --no-sparkplug` (bench/pods, 2026-11-26,
 *   load 27–38 on 2 shared cores, 50-pod batches): idle RSS of `edge-agent run` 61.7 → 59.9 MiB
 *   and 96.6 → 70 MiB with 50 pods running, for 1.7–1.9 → 2.2–2.3 s of agent CPU per 50-pod
 *   batch (≈10 ms per pod; apply→Running is bound by dockerd, not by the agent's CPU).
 *   With TurboFan back on: 71.4 MiB idle, 102.8 MiB with 50 pods, 1.4–1.7 s CPU per batch, so
 *   optimization is not worth its memory here either. `--max-lazy` changed nothing (62.9 MiB).
 *   Interpreted only, log streaming fell from 5.1 to 3.2 MB/s, so the agent turns Sparkplug
 *   back on when its first stream opens (enableBaselineCompilerOnce): 5.3 and 3.7 MB/s in two
 *   runs afterwards, idle RSS unchanged (59.9–60.0 MiB), all at load 5–12.
 * - The hub starts with TurboFan and Sparkplug off (`--no-opt --no-sparkplug`) and turns both
 *   on once it serves (tuneAfterStart): even with the 10× budget, start-up optimized enough
 *   functions to page in ≈3 MB of the compiler's machine code from the node binary (file-backed
 *   pages count in RSS; measured with /proc/PID/pagemap against the binary's symbols), which an
 *   idle hub then keeps. hub-idle (restart case, load ≈1–12): 63.2 → 59.7 MB without TurboFan,
 *   → 59.3 MB without Sparkplug's start-up baseline code as well. V8 reads both flags at each
 *   tier-up decision, so request handling is compiled as before once load arrives (bench/api).
 * - `--max-old-space-size` does not lower idle RSS (old space is committed as it is used), so
 *   it is not set here: a cap only turns a large cluster into an out-of-memory crash.
 * - The hub's old space grows by a fixed 1.35× after each full GC (`--heap-growing-percent=35`)
 *   instead of V8's dynamic factor (up to 4× when GC is cheap relative to allocation): during a
 *   burst (10,000 pods created, bound and started) V8 otherwise lets garbage pile up to twice the
 *   live heap before collecting. bench/scheduler (hub in its own process, 1,000 nodes, 10,000
 *   pods; load 13–23 on the shared cores): hub peak RSS 401 → 247 MB, hub CPU 43 → 36 s (noise:
 *   the CPU did not rise). 20% gave 234 MB but 65 s of CPU (full GCs too often), so 50%.
 *   35% since the young generation is capped by default (young-generation-cap.ts): a small
 *   young generation promotes more of what an idle fleet's lease flushes and status rounds
 *   leave, and old space then held up to 48 MB of it between two full GCs. bench/sync N = 5,000
 *   (2026-11-27), RSS right after the idle window's status round: 408.3 MB at 50%, 397.9 at
 *   35%; bench/scheduler 1,000–1,038 → 959–965 pods/s (hub CPU 11.1–11.5 → 12.2 s; the target
 *   is 500). docs/hub-memory.md §10.
 *   The agent keeps V8's default: its heap is small and its bursts are short.
 * - The cost is more frequent scavenges; each one is short because little survives them.
 *   EDGEKUBE_V8_FLAGS replaces the defaults ("" turns tuning off) for measurements.
 */
import { setFlagsFromString } from "node:v8";

export type Role = "hub" | "agent" | "other";

/** The flags a role runs with unless EDGEKUBE_V8_FLAGS says otherwise. */
export const DEFAULT_V8_FLAGS: Record<Role, string> = {
  hub: "--semi-space-growth-factor=1 --interrupt-budget=1320000 --heap-growing-percent=35 --no-opt --no-sparkplug",
  agent: "--semi-space-growth-factor=1 --no-opt --optimize-for-size --no-sparkplug",
  other: "",
};

/** Which role a process runs, from the launcher name and its arguments (as main() dispatches). */
export function roleOf(invokedAs: string, argv: readonly string[]): Role {
  const name = invokedAs.split("/").pop() ?? "";
  if (name.startsWith("edge-hub")) return "hub";
  if (name.startsWith("edge-agent")) return "agent";
  if (argv[0] === "hub") return "hub";
  if (argv[0] === "agent") return "agent";
  return "other";
}

/** The V8 flags to apply: EDGEKUBE_V8_FLAGS when set (even empty), else the role's defaults. */
export function v8FlagsFor(role: Role, env: NodeJS.ProcessEnv): string[] {
  const raw = env.EDGEKUBE_V8_FLAGS ?? DEFAULT_V8_FLAGS[role];
  return raw.split(/\s+/).filter((f) => f.startsWith("--"));
}

/** Applies the role's V8 flags to this process; returns what was applied. */
export function tuneHeap(invokedAs: string, argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const flags = v8FlagsFor(roleOf(invokedAs, argv), env);
  for (const f of flags) setFlagsFromString(f);
  return flags;
}

/**
 * Turns V8's baseline compiler (Sparkplug) on for the rest of the process, once. The agent
 * starts without it (idle RSS) and calls this when the first log/exec/attach/port-forward
 * stream opens: stream pumping is the agent's one hot JS loop, and interpreted only it moved
 * 3.2 instead of 5.1 MB/s of logs (bench/pods). Unless EDGEKUBE_V8_FLAGS chose the flags.
 */
export function enableBaselineCompilerOnce(env: NodeJS.ProcessEnv): () => void {
  let done = env.EDGEKUBE_V8_FLAGS !== undefined;
  return () => {
    if (done) return;
    done = true;
    setFlagsFromString("--sparkplug");
  };
}

/**
 * What the hub turns back on once it serves (start-up is over): the young generation's growth
 * (relaxYoungGeneration), the baseline compiler and the optimizing compiler, which the hub
 * starts without (the design notes say why), and V8's own interrupt budget. Unless
 * EDGEKUBE_V8_FLAGS chose the flags.
 */
export function tuneAfterStart(env: NodeJS.ProcessEnv): void {
  if (env.EDGEKUBE_V8_FLAGS !== undefined) return;
  relaxYoungGeneration(env);
  setFlagsFromString("--sparkplug");
  setFlagsFromString("--opt");
  setFlagsFromString(`--interrupt-budget=${V8_DEFAULT_INTERRUPT_BUDGET}`);
}

/**
 * V8's own interrupt budget (132 KiB of bytecode executed per tier-up check, V8 11–12). The hub
 * starts with 10× (DEFAULT_V8_FLAGS) and returns to this once it serves: start-up runs without
 * TurboFan and Sparkplug anyway, and under load the 10× budget kept the create path in slower
 * tiers for long: bench/api's creates, hubs A/B in one run (load 7–9, 2 shared cores), 0.418 ms
 * of hub CPU per create with the 10× budget against 0.279 ms with V8's defaults. V8 reads the
 * flag whenever it resets a function's budget, so setting it at run time takes effect.
 */
const V8_DEFAULT_INTERRUPT_BUDGET = 132 * 1024;

/**
 * Lets the young generation grow again once the hub is serving (V8's default factor is 2).
 * `--semi-space-growth-factor=1` keeps the semi-spaces at 1 MiB through start-up, which is what
 * the idle RSS gains from; left on under load it makes every burst pay for a scavenge per MiB
 * allocated: bench/scheduler (hub in its own process, 1,000 nodes, 10,000 pods, quiet machine)
 * bound 488 pods/s with 24.2 s of hub CPU with it, 643 pods/s with 17.4 s without, for the same
 * peak RSS (238–242 MB). Unless EDGEKUBE_V8_FLAGS chose the flags.
 */
export function relaxYoungGeneration(env: NodeJS.ProcessEnv): void {
  if (env.EDGEKUBE_V8_FLAGS !== undefined) return;
  setFlagsFromString("--semi-space-growth-factor=2");
}
