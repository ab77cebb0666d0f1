/**
 * AttachProvider for Docker: `kubectl attach` joins the container's main process streams.
 *
 * Design notes
 * - The ContainerRuntime contract has no attach (only the pod manager's needs are there), so
 *   this lives beside the stream handlers and finds the container through `podStatus()`.
 * - Docker attach with `stream: true` hijacks the connection like exec; stdin reaches the process
 *   only if the container was created with `stdin: true` (Kubernetes requires the same).
 * - There is no exit code for an attach: the session ends when the container's output ends,
 *   and reports success, as the kubelet does.
 */
import { PassThrough, type Readable, Writable } from "node:stream";
import type Docker from "dockerode";
import { type ContainerRuntime, FrameDemuxer, PodNotFoundError } from "../runtime/index.js";
import type { AttachProvider, ProcessSession } from "./exec-handler.js";

export class DockerAttach implements AttachProvider {
  constructor(
    private readonly docker: Docker,
    private readonly runtime: ContainerRuntime,
  ) {}

  async attach(
    podUid: string,
    container: string,
    opts: { stdin: boolean; tty: boolean },
  ): Promise<ProcessSession> {
    const pod = await this.runtime.podStatus(podUid);
    const status = pod?.containers.find((c) => c.name === container && "running" in c.state);
    if (!status) throw new PodNotFoundError(podUid, container, "it is not running, so it cannot be attached");
    const id = status.containerID.replace(/^docker:\/\//, "");
    const c = this.docker.getContainer(id);
    const info = await c.inspect();
    const tty = info.Config.Tty === true;
    const conn = (await c.attach({
      stream: true,
      stdin: opts.stdin,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as NodeJS.ReadWriteStream & Readable;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (tty) {
      conn.pipe(stdout);
      stdout.once("end", () => stderr.end());
    } else {
      const demux = new FrameDemuxer(stdout, stderr);
      conn.pipe(demux);
      conn.once("close", () => {
        if (!demux.writableEnded) demux.end();
      });
    }
    let stdin: Writable | undefined;
    if (opts.stdin) {
      const w = conn as unknown as Writable;
      stdin = new Writable({
        write: (chunk: Buffer, _enc, done) => {
          if (w.write(chunk)) done();
          else w.once("drain", () => done());
        },
        // detaching must not close the container's stdin for good: just stop writing
        final: (done) => done(),
      });
    }
    const ended = new Promise<undefined>((resolve) => {
      conn.once("end", () => resolve(undefined));
      conn.once("close", () => resolve(undefined));
    });
    stdout.once("close", () => (conn as unknown as Readable).destroy());
    return {
      ...(stdin ? { stdin } : {}),
      stdout,
      stderr,
      resize: async (size) => {
        await c.resize({ h: size.rows, w: size.cols });
      },
      exitCode: ended,
    };
  }
}
