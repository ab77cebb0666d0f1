/**
 * Log and exec streams from Docker as plain Node streams.
 *
 * Design notes
 * - Without a tty Docker multiplexes stdout and stderr on one connection in 8-byte-header frames
 *   ([stream, 0, 0, 0, size uint32 BE] then the payload). `FrameDemuxer` splits them into two
 *   PassThroughs, keeping partial frames across chunks; it is pure and unit-tested. With a tty
 *   the connection is the raw terminal, all on stdout.
 * - Logs are always read as a stream (follow or not) through the same demuxer, so a long log is
 *   never held whole in the agent and back-pressure reaches Docker.
 * - Exec stdin rides the hijacked connection: ending our stdin half-closes it, which is how the
 *   process inside sees EOF (as `docker exec -i` does). The exit code is read from exec inspect
 *   after the output ended; Docker may need a moment to record it, hence the short poll.
 * - Back-pressure: the demuxer pauses the source while a consumer's buffer is full, so callers
 *   must read both stdout and stderr (or destroy them).
 */
import { PassThrough, type Readable, Writable } from "node:stream";
import type Docker from "dockerode";
import type { ExecOptions, ExecSession, LogOptions, LogStreams } from "./runtime.js";

const HEADER = 8;

/** Splits Docker's multiplexed stream frames into stdout and stderr. */
export class FrameDemuxer extends Writable {
  private pending: Buffer = Buffer.alloc(0);
  constructor(
    readonly stdout: PassThrough,
    readonly stderr: PassThrough,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let wait = 0;
    let pendingWrites = 0;
    // consecutive frames of one stream go out as one write: Docker frames every log line, and
    // a write per 100-byte line through three stream layers was the agent's main cost of a
    // fast log (bench/pods); order across stdout/stderr is kept since a run ends at a switch
    let run: Buffer[] = [];
    let runKind = 1;
    const flush = () => {
      if (run.length === 0) return;
      const target = runKind === 2 ? this.stderr : this.stdout;
      const data = run.length === 1 ? run[0]! : Buffer.concat(run);
      run = [];
      if (!target.write(data)) {
        pendingWrites++;
        target.once("drain", () => {
          wait++;
          if (wait === pendingWrites) done();
        });
      }
    };
    while (this.pending.length >= HEADER) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) break;
      const kind = this.pending[0] === 2 ? 2 : 1;
      const payload = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      if (payload.length === 0) continue;
      if (kind !== runKind) flush();
      runKind = kind;
      run.push(payload);
    }
    flush();
    if (pendingWrites === 0) done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.stdout.end();
    this.stderr.end();
    done();
  }
}

/** Pipes a Docker connection into fresh stdout/stderr streams. */
function split(
  source: NodeJS.ReadableStream | Buffer,
  tty: boolean,
): { stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (tty) {
    if (Buffer.isBuffer(source)) stdout.end(source);
    else (source as Readable).pipe(stdout);
    stdout.once("end", () => stderr.end());
    if (Buffer.isBuffer(source)) stderr.end();
    return { stdout, stderr };
  }
  const demux = new FrameDemuxer(stdout, stderr);
  if (Buffer.isBuffer(source)) demux.end(source);
  else {
    const r = source as Readable;
    r.pipe(demux);
    // a destroyed connection (close(), daemon gone) must still end the consumer's streams
    r.once("close", () => {
      if (!demux.writableEnded) demux.end();
    });
  }
  return { stdout, stderr };
}

export async function containerLogs(
  docker: Docker,
  containerId: string,
  tty: boolean,
  opts: LogOptions = {},
): Promise<LogStreams> {
  const c = docker.getContainer(containerId);
  const base = {
    stdout: true,
    stderr: true,
    timestamps: opts.timestamps === true,
    tail: opts.tail === undefined || opts.tail < 0 ? ("all" as unknown as number) : opts.tail,
    since: opts.since ?? 0,
  };
  // Always a stream, also without follow: dockerode buffers a non-follow log whole, so a 64 MB
  // log was held in the agent's memory and only then accepted (the hub's open timed out).
  const raw = opts.follow
    ? ((await c.logs({ ...base, follow: true })) as Readable)
    : await logStream(c as unknown as Dialable, { ...base, follow: false });
  const streams = split(raw, tty);
  return { ...streams, close: () => raw.destroy() };
}

/** The part of dockerode's modem used to ask for a log as a stream. */
interface Dialable {
  id: string;
  modem: {
    dial(
      o: {
        path: string;
        method: string;
        isStream: boolean;
        statusCodes: Record<number, string | boolean>;
        options: object;
      },
      cb: (err: Error | null, data: unknown) => void,
    ): void;
  };
}

/** GET /containers/{id}/logs as a stream (what Container.logs does with follow, minus follow). */
function logStream(c: Dialable, options: object): Promise<Readable> {
  return new Promise((resolve, reject) =>
    c.modem.dial(
      {
        path: `/containers/${c.id}/logs?`,
        method: "GET",
        isStream: true,
        statusCodes: { 200: true, 404: "no such container", 500: "server error" },
        options,
      },
      (err, data) => (err ? reject(err) : resolve(data as Readable)),
    ),
  );
}

async function waitExitCode(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    "exec did not report an exit code after its output ended: the Docker daemon may be overloaded",
  );
}

export async function containerExec(
  docker: Docker,
  containerId: string,
  cmd: string[],
  opts: ExecOptions = {},
): Promise<ExecSession> {
  const tty = opts.tty === true;
  const wantStdin = opts.stdin === true;
  const exec = await docker.getContainer(containerId).exec({
    Cmd: cmd,
    AttachStdin: wantStdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: tty,
  });
  const conn = (await exec.start({
    hijack: true,
    stdin: wantStdin,
    Tty: tty,
  })) as unknown as NodeJS.ReadWriteStream & Readable;
  const { stdout, stderr } = split(conn, tty);
  const resize = async (size: { rows: number; cols: number }) => {
    await exec.resize({ h: size.rows, w: size.cols });
  };
  if (tty && opts.size) await resize(opts.size).catch(() => {});
  let stdin: Writable | undefined;
  if (wantStdin) {
    const w = conn as unknown as Writable;
    stdin = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        if (w.write(chunk)) done();
        else w.once("drain", () => done());
      },
      final: (done) => {
        w.end();
        done();
      },
    });
  }
  // the exit is known once Docker closes the connection, whether or not the caller drained stderr
  const ended = new Promise<void>((resolve) => {
    conn.once("end", resolve);
    conn.once("close", resolve);
    conn.once("error", () => resolve());
  });
  const exitCode = ended.then(() => waitExitCode(exec));
  // avoid an unhandled rejection when the caller never awaits the exit code
  exitCode.catch(() => {});
  return { stdin, stdout, stderr, resize, exitCode };
}
