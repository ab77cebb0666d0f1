/**
 * bench/streams: the stream protocol over a real aedes broker and mqtt.js link on loopback TLS.
 *   1. bulk throughput agent → hub (what `kubectl logs` of a chatty container costs), with a
 *      synthetic producer so Docker's own log reading is not measured; peak buffers on both ends
 *   2. the same with small writes (one 60-byte "line" per write, as Docker hands logs over)
 *   3. exec-style round trip: one channel message hub → agent → hub, p50/p99
 * Docker-backed numbers (12 MB container log) are printed by test/integration/streams.
 *
 *   npm run bench -- streams [--mb 32]
 */
import { once } from "node:events";
import { createCA, issueCert } from "../src/lib/pki.js";
import { MqttBroker } from "../src/transport/broker.js";
import { EdgeLink } from "../src/transport/client.js";
import { type MuxStream, StreamMux, StreamServer } from "../src/transport/streams/index.js";
import { median, percentile, writeResult } from "./lib/stats.js";

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const MB = arg("mb", 32);

async function main(): Promise<void> {
  const ca = await createCA("bench-ca");
  const hubCert = await issueCert(ca, { commonName: "hub", ipAddresses: ["127.0.0.1"], usage: "server" });
  const node = "bench-node";
  const nodeCert = await issueCert(ca, {
    commonName: `system:node:${node}`,
    organizations: ["system:nodes"],
    usage: "client",
  });
  const broker = new MqttBroker({
    host: "127.0.0.1",
    port: 0,
    tls: { ca: ca.certPem, cert: hubCert.certPem, key: hubCert.keyPem },
  });
  await broker.start();
  const link = new EdgeLink({
    url: `mqtts://127.0.0.1:${broker.address().port}`,
    node,
    ca: ca.certPem,
    cert: nodeCert.certPem,
    key: nodeCert.keyPem,
  });
  await link.start();
  while (!link.connected) await new Promise((r) => setTimeout(r, 20));

  let agentPeak = 0;
  const lineSize = 60;
  const server = new StreamServer({
    channel: link,
    handlers: {
      logs: async (req) => {
        const s = req.accept();
        const small = req.params["small"] === true;
        const total = Number(req.params["bytes"]);
        const chunk = Buffer.alloc(small ? lineSize : 64 * 1024, 0x61);
        for (let sent = 0; sent < total; sent += chunk.length) {
          if (!s.write(chunk)) await once(s, "drain");
          agentPeak = Math.max(agentPeak, s.writableLength);
        }
        s.end();
      },
      exec: async (req) => {
        const s = req.accept();
        s.on("data", (c: Buffer) => s.write(c));
        s.once("end", () => s.end());
      },
    },
  });
  await server.start();
  const mux = new StreamMux({ channel: broker });
  await mux.start();

  async function bulk(small: boolean, bytes: number) {
    agentPeak = 0;
    const t0 = performance.now();
    const s: MuxStream = await mux.open(node, "logs", { bytes, small });
    let got = 0;
    s.on("data", (c: Buffer) => {
      got += c.length;
    });
    s.end();
    await once(s, "end");
    const sec = (performance.now() - t0) / 1000;
    return { bytes: got, seconds: sec, mbPerSec: got / 1e6 / sec, hubPeak: s.peakBuffered, agentPeak };
  }

  const big = await bulk(false, MB * 1024 * 1024);
  const lines = await bulk(true, Math.min(MB, 8) * 1024 * 1024);

  const s = await mux.open(node, "exec", {});
  const rtts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    s.write(Buffer.from(`ping ${i}`));
    await once(s, "data");
    rtts.push(performance.now() - t0);
  }
  s.end();
  rtts.sort((a, b) => a - b);
  const result = {
    bulk64k: big,
    smallWrites: lines,
    roundTripMs: { p50: median(rtts), p99: percentile(rtts, 99) },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`written ${writeResult("streams", result)}`);
  mux.stop();
  server.stop();
  await link.stop();
  await broker.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
