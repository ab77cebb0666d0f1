/**
 * Moving bytes from runtime streams into a MuxStream without unbounded buffering: a source is
 * paused whenever the stream's write buffer is full and resumed on `drain`, so Docker itself
 * is back-pressured by the hub's credit window.
 */
import type { Readable } from "node:stream";
import type { MuxStream } from "../../transport/streams/index.js";

/**
 * Copies every source into `sink`, each chunk passed through `frame` (e.g. channel framing).
 * Resolves when all sources ended (or the sink was destroyed); never ends the sink itself.
 */
export function pumpInto(
  sink: MuxStream,
  sources: { stream: Readable; frame: (chunk: Buffer) => Buffer }[],
): Promise<void> {
  return new Promise((resolve) => {
    let open = sources.length;
    if (open === 0) {
      resolve();
      return;
    }
    const paused = new Set<Readable>();
    const onDrain = () => {
      for (const s of paused) s.resume();
      paused.clear();
    };
    sink.on("drain", onDrain);
    const finish = () => {
      if (--open === 0) {
        sink.off("drain", onDrain);
        resolve();
      }
    };
    for (const { stream, frame } of sources) {
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        finish();
      };
      stream.on("data", (chunk: Buffer) => {
        if (sink.destroyed || sink.writableEnded) return;
        if (!sink.write(frame(chunk))) {
          stream.pause();
          paused.add(stream);
        }
      });
      stream.once("end", end);
      stream.once("close", end);
      stream.once("error", end);
    }
    sink.once("close", () => {
      for (const { stream } of sources) stream.destroy();
    });
  });
}
