/**
 * Logging: one pino root logger per process, handed down as child loggers carrying
 * `{component, node, key}`. Never log Secret data or message bodies.
 */
import { type Logger, pino } from "pino";

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** write to this file descriptor (default 2, stderr, so stdout stays for command output) */
  fd?: number;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    { level: opts.level ?? "info", base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: opts.fd ?? 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
