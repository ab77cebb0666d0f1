/**
 * Probe timing and thresholds for one running container (one container id): startup, liveness
 * and readiness workers, as the kubelet's prober workers.
 *
 * Design notes
 * - A container id gets one ContainerProbes; a restart means a new id and a fresh set, so no
 *   counter leaks from one attempt into the next.
 * - Startup gates the others: until it has succeeded once, `started` is false, liveness and
 *   readiness do not run, and failureThreshold startup failures kill the container.
 * - Readiness starts false and flips after successThreshold successes / failureThreshold
 *   failures; no readiness probe means ready as soon as started. Liveness kills after
 *   failureThreshold consecutive failures.
 * - The first run waits initialDelaySeconds after the container's start (an adopted container
 *   started long ago is probed promptly), then every periodSeconds; timers come from the
 *   injected clock. Each result change calls `onChange` so the manager re-syncs the pod.
 */
import type { Container, Probe } from "kubernetes-types/core/v1";
import type { Clock } from "./ports.js";
import type { ProbeTarget, RunProbe } from "./probe-runner.js";

export type ProbeKind = "startup" | "liveness" | "readiness";

export interface ProbeCallbacks {
  /** started/ready changed: re-sync status */
  onChange(): void;
  /** a failed probe (Unhealthy event) */
  onFailure(kind: ProbeKind, output: string): void;
  /** liveness or startup gave up: restart the container */
  onKill(kind: ProbeKind): void;
}

const LABEL: Record<ProbeKind, string> = { startup: "Startup", liveness: "Liveness", readiness: "Readiness" };
export const probeLabel = (k: ProbeKind) => LABEL[k];

class Worker {
  private timer: unknown;
  private stopped = false;
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly run: () => ReturnType<RunProbe>,
    private readonly clock: Clock,
    private readonly result: (ok: boolean, output: string, final: boolean) => void,
  ) {}

  start(firstDelayMs: number): void {
    this.timer = this.clock.setTimeout(() => void this.tick(), Math.max(0, firstDelayMs));
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let r: { ok: boolean; output: string };
    try {
      r = await this.run();
    } catch (err) {
      r = { ok: false, output: (err as Error).message };
    }
    if (this.stopped) return;
    const successNeeded = this.kind === "readiness" ? (this.probe.successThreshold ?? 1) : 1;
    const failureNeeded = this.probe.failureThreshold ?? 3;
    if (r.ok) {
      this.failures = 0;
      this.successes++;
      this.result(true, "", this.successes >= successNeeded);
    } else {
      this.successes = 0;
      this.failures++;
      this.result(false, r.output, this.failures >= failureNeeded);
    }
    if (this.kind === "startup" && r.ok) return;
    if (!this.stopped) this.start(Math.max(1, this.probe.periodSeconds ?? 10) * 1000);
  }
}

export class ContainerProbes {
  started: boolean;
  ready: boolean;
  private readonly workers: Worker[] = [];
  private stopped = false;

  constructor(
    private readonly spec: Container,
    private readonly target: ProbeTarget,
    private readonly startedAtMs: number,
    private readonly run: RunProbe,
    private readonly clock: Clock,
    private readonly cb: ProbeCallbacks,
  ) {
    this.started = !spec.startupProbe;
    this.ready = this.started && !spec.readinessProbe;
    if (spec.startupProbe) this.add("startup", spec.startupProbe);
    else this.startGated();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers) w.stop();
  }

  private add(kind: ProbeKind, probe: Probe): void {
    const w = new Worker(
      kind,
      probe,
      () => this.run(probe, this.target),
      this.clock,
      (ok, out, final) => this.onResult(kind, ok, out, final),
    );
    this.workers.push(w);
    const since = this.clock.now() - this.startedAtMs;
    w.start((probe.initialDelaySeconds ?? 0) * 1000 - since);
  }

  private startGated(): void {
    if (this.spec.livenessProbe) this.add("liveness", this.spec.livenessProbe);
    if (this.spec.readinessProbe) this.add("readiness", this.spec.readinessProbe);
  }

  /** one kill per container id: the restarted container gets a fresh ContainerProbes */
  private kill(kind: ProbeKind): void {
    this.stop();
    this.cb.onKill(kind);
  }

  private onResult(kind: ProbeKind, ok: boolean, output: string, final: boolean): void {
    if (this.stopped) return;
    if (!ok) this.cb.onFailure(kind, output);
    if (!final) return;
    if (kind === "startup") {
      if (ok && !this.started) {
        this.started = true;
        this.ready = !this.spec.readinessProbe;
        this.startGated();
        this.cb.onChange();
      } else if (!ok) this.kill(kind);
    } else if (kind === "liveness") {
      if (!ok) this.kill(kind);
    } else if (this.ready !== ok) {
      this.ready = ok;
      this.cb.onChange();
    }
  }
}
