/** Flag parsing for the commands: node:util parseArgs with errors that say what to do. */
import { type ParseArgsConfig, parseArgs } from "node:util";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseFlags<O extends Options>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `${command}: ${(e as Error).message.replace(/\. To specify a positional.*$/, "")}; run "${command} --help" for the flags`,
    );
  }
}

export function parsePort(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${flag} must be a port number 0-65535, got "${v}"`);
  return n;
}
