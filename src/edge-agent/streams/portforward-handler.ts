/**
 * Agent side of `kubectl port-forward`: one stream = one TCP connection to a port of the pod.
 *
 * Design notes
 * - The connection must originate inside the pod's network namespace (the port may listen on
 *   127.0.0.1 only, and pod IPs are not routable from the agent's namespace in every setup).
 *   Node cannot setns(2) one socket, so like the kubelet (which uses nsenter + socat) we run a
 *   relay process in the sandbox's namespace: `nsenter --net=<netns> busybox nc 127.0.0.1 PORT`,
 *   its stdin/stdout piped to the stream. Using the host's busybox (Debian's busybox-static, a
 *   dependency of the agent package) rather than `nc` inside the container works for images
 *   that ship no tools at all. The command is injectable (tests, other relays like socat).
 * - Like the kubelet, the stream is accepted before the connection is known to succeed; a relay
 *   that exits non-zero (connection refused) aborts the stream with its stderr text, which the
 *   hub writes to kubectl's error stream ("an error occurred forwarding …").
 * - The hub half-closing (the local client shut down its write side) ends the relay's stdin; the
 *   relay's stdout end ends the stream.
 */
import { spawn } from "node:child_process";
import { type StreamHandler, StreamRequestError } from "../../transport/streams/index.js";
import type { ContainerRuntime } from "../runtime/index.js";
import { isPodNotFound } from "../runtime/index.js";
import { portParams } from "./params.js";
import { pumpInto } from "./pump.js";

/** argv of the relay process for one connection to `port` inside `netnsPath` */
export type RelayCommand = (netnsPath: string, port: number) => string[];

export const nsenterRelay: RelayCommand = (netns, port) => [
  "nsenter",
  `--net=${netns}`,
  "busybox",
  "nc",
  "127.0.0.1",
  String(port),
];

export function portForwardHandler(
  runtime: ContainerRuntime,
  relay: RelayCommand = nsenterRelay,
): StreamHandler {
  return async (req) => {
    const p = portParams(req.params);
    let netns: string;
    try {
      netns = await runtime.sandboxNetnsPath(p.podUid);
    } catch (err) {
      if (isPodNotFound(err)) {
        throw new StreamRequestError(`pod "${p.pod}" is not running on this node: cannot forward ports`, 400);
      }
      throw err;
    }
    const [cmd, ...args] = relay(netns, p.port);
    if (!cmd) throw new Error("port-forward relay command is empty");
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const stream = req.accept();
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.once("error", (err) => {
        stderr += err.message;
        resolve(-1);
      });
    });
    stream.on("data", (chunk: Buffer) => {
      if (!child.stdin.write(chunk)) {
        stream.pause();
        child.stdin.once("drain", () => stream.resume());
      }
    });
    child.stdin.on("error", () => {});
    stream.once("end", () => child.stdin.end());
    stream.once("close", () => {
      if (child.exitCode === null) child.kill("SIGTERM");
    });
    await pumpInto(stream, [{ stream: child.stdout, frame: (b) => b }]);
    const code = await exited;
    if (stream.destroyed) return;
    if (code !== 0) {
      throw new StreamRequestError(
        `error forwarding port ${p.port} to pod ${p.podUid}: relay exited ${code}: ${stderr.trim()}`,
        500,
        "InternalError",
      );
    }
    stream.end();
  };
}
