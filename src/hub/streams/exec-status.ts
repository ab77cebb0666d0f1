/**
 * The remotecommand status message (channel 3) kubectl reads at the end of exec/attach, from
 * what the agent reported. kubectl exits with the ExitCode cause's number on NonZeroExitCode.
 */
import type { ExecStatus } from "../../transport/streams/index.js";

export function execStatusMessage(s: ExecStatus, command: string[]): Record<string, unknown> {
  if ("exitCode" in s) {
    if (s.exitCode === 0) return { metadata: {}, status: "Success" };
    return {
      metadata: {},
      status: "Failure",
      message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${s.exitCode}`,
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: String(s.exitCode) }] },
    };
  }
  return { metadata: {}, status: "Failure", message: s.error, reason: "InternalError" };
}
