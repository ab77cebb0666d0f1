/**
 * scripts/lib/bundle-stubs.mjs through real esbuild and the real dockerode: dockerode bundled the
 * dev bundle's way still loads and works over a unix socket, leaves ssh2 and the gRPC stack out,
 * and reports an SSH DOCKER_HOST with the stub's message. dns2 bundled without its DNS-over-HTTPS
 * parts (node:http2) still serves and resolves over UDP; dockerode's image build (tar-fs) fails
 * with the stub's message; no readable-stream copy is left in the agent's packages.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devBundleOptions } from "../../scripts/lib/dev-bundle.mjs";

const repo = join(import.meta.dirname, "../..");
// inside the checkout, so the bundle's external packages resolve from node_modules
const dir = join(repo, ".vitest-tmp", `bundle-stubs-${process.pid}-${Date.now()}`);

interface DockerLike {
  ping(): Promise<unknown>;
}
interface Entry {
  docker(opts: Record<string, unknown>): DockerLike;
  dnsRoundTrip(): Promise<string[]>;
  mqttPacketRoundTrip(): Promise<string>;
  aedesServes(): Promise<{ suback: string; numberCache: number; externalMqttPacket: string[] }>;
  requireStub(id: string): Record<string, unknown>;
}

let entry: Entry;
let text = "";
let server: Server;
const socketPath = join(dir, "docker.sock");

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  const src = join(dir, "entry.ts");
  writeFileSync(
    src,
    [
      'import Docker from "dockerode";',
      "export const docker = (o: Record<string, unknown>) => new Docker(o);",
      'import dns2 from "dns2";',
      'import mqttPacket from "mqtt-packet";',
      'import mqttNumbers from "mqtt-packet/numbers.js";',
      'import { Aedes } from "aedes";',
      'import { createServer as tcpServer, connect as tcpConnect } from "node:net";',
      // as broker-aedes.ts and the agent's client do, before anything is encoded
      "mqttPacket.writeToStream.cacheNumbers = false;",
      // a UDP server and client on loopback, through dns2 as src/dns uses it
      "export async function dnsRoundTrip() {",
      '  const server = dns2.createServer({ udp: true, handle: (req: any, send: any) => { const res = dns2.Packet.createResponseFromRequest(req); res.answers.push({ name: req.questions[0].name, type: dns2.Packet.TYPE.A, class: dns2.Packet.CLASS.IN, ttl: 5, address: "10.43.0.7" }); send(res); } });',
      '  const addr: any = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });',
      "  try {",
      '    const res: any = await dns2.UDPClient({ dns: "127.0.0.1", port: addr.udp.port })("web.default.svc.cluster.local", "A");',
      "    return res.answers.map((a: any) => a.address);",
      "  } finally { await server.close(); }",
      "}",
      // mqtt-packet and bl on node's stream module: parse what was generated
      "export function mqttPacketRoundTrip() {",
      "  const parser = mqttPacket.parser({ protocolVersion: 4 });",
      "  if (typeof (parser as any)._list.pipe === 'function') throw new Error('mqtt-packet parser buffers in a stream (bl BufferListStream)');",
      "  return new Promise<string>((done) => { parser.on('packet', (p: any) => done(p.topic)); parser.parse(mqttPacket.generate({ cmd: 'publish', topic: 'edgekube/t', payload: Buffer.from('x'), qos: 0, dup: false, retain: false } as any)); });",
      "}",
      // aedes as the hub loads it: one mqtt-packet for aedes and for broker-aedes.ts' switch, so
      // the switch reaches aedes' encoder (no 65,536-entry number cache after a SUBACK with an id)
      "export async function aedesServes() {",
      "  const aedes: any = await Aedes.createBroker({});",
      "  const srv = tcpServer(aedes.handle);",
      "  await new Promise<void>((done) => srv.listen(0, '127.0.0.1', done));",
      "  const sock = tcpConnect((srv.address() as any).port, '127.0.0.1');",
      "  const parser = mqttPacket.parser({ protocolVersion: 4 });",
      "  sock.on('data', (d) => parser.parse(d));",
      "  const suback = new Promise<string>((done) => parser.on('packet', (p: any) => { if (p.cmd === 'suback') done(p.messageId + ':' + p.granted); }));",
      "  sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c1', clean: true, keepalive: 30 } as any));",
      "  sock.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 4242, subscriptions: [{ topic: 'edgekube/#', qos: 1 }] } as any));",
      "  try {",
      "    return { suback: await suback, numberCache: Object.keys(mqttNumbers.cache).length,",
      "      externalMqttPacket: Object.keys(require.cache).filter((k) => /node_modules[\\\\/]mqtt-packet[\\\\/]/.test(k)) };",
      "  } finally { sock.destroy(); await new Promise((done) => aedes.close(done)); srv.close(); }",
      "}",
      // a literal require per id, as docker-modem and dockerode do, so esbuild resolves it
      "export const requireStub = (id: string) =>",
      '  id === "ssh2" ? require("ssh2") : id === "@grpc/grpc-js" ? require("@grpc/grpc-js") : id === "tar-fs" ? require("tar-fs") : undefined;',
    ].join("\n"),
  );
  const out = await build({ ...devBundleOptions({ entry: src, outdir: join(dir, "out") }), write: false });
  for (const f of out.outputFiles) {
    mkdirSync(join(f.path, ".."), { recursive: true });
    writeFileSync(f.path, f.text);
    if (f.path.endsWith("edgekube.mjs")) text = f.text;
  }
  entry = (await import(join(dir, "out", "edgekube.mjs"))) as Entry;
  server = createServer((req, res) => {
    res.writeHead(req.url?.endsWith("/_ping") ? 200 : 404, { "content-type": "text/plain" });
    res.end("OK");
  });
  await new Promise<void>((done) => server.listen(socketPath, done));
});

afterAll(async () => {
  await new Promise((done) => server?.close(done));
  rmSync(dir, { recursive: true, force: true });
});

describe("dev bundle stubs", () => {
  it("compiles dockerode and docker-modem in, without ssh2 or the gRPC stack", () => {
    expect(text).toContain("docker-modem");
    expect(text).not.toMatch(/node_modules\/ssh2\//);
    expect(text).not.toMatch(/node_modules\/@grpc\//);
  });

  it("still talks to dockerd over a unix socket", async () => {
    await expect(entry.docker({ socketPath }).ping()).resolves.toBeDefined();
  });

  it("fails an SSH DOCKER_HOST with a message that says what to use instead", async () => {
    const ssh = entry.docker({ protocol: "ssh", host: "127.0.0.1", port: 1 });
    await expect(ssh.ping()).rejects.toThrow(
      /SSH transport to Docker .* not supported by edgekube.*unix socket/,
    );
  });

  it("bundles dns2 without its DNS-over-HTTPS parts and still answers over UDP", async () => {
    expect(text).toContain("dns2/server/udp.js");
    expect(text).not.toContain('require("node:http2")');
    await expect(entry.dnsRoundTrip()).resolves.toEqual(["10.43.0.7"]);
  });

  it("gives docker-modem, mqtt-packet and bl node's stream module instead of readable-stream", async () => {
    expect(text).toContain("docker-modem/lib/http_duplex.js");
    expect(text).not.toMatch(/require\("readable-stream"\)/);
    await expect(entry.mqttPacketRoundTrip()).resolves.toBe("edgekube/t");
  });

  it("bundles aedes with the mqtt-packet the hub switches: no second copy, no number cache", async () => {
    const r = await entry.aedesServes();
    expect(r.suback).toBe("4242:1");
    expect(r.externalMqttPacket).toEqual([]);
    expect(r.numberCache).toBe(0);
  });

  it("leaves tar-fs out: packing a build context fails with a message that says what to use instead", () => {
    expect(text).not.toMatch(/node_modules\/tar-(fs|stream)\//);
    // and zlib (dockerode gzips build contexts only) is required at first use, not at load
    expect(text).toContain("edgekube-lazy-require:zlib");
    const tar = entry.requireStub("tar-fs");
    expect(() => (tar.pack as () => unknown)()).toThrow(
      /building images .* not supported by edgekube.*image import/,
    );
  });

  it("stubs export functions that throw when used, so requiring them succeeds", () => {
    const grpc = entry.requireStub("@grpc/grpc-js");
    expect(typeof grpc.Server).toBe("function");
    expect(() => (grpc.Server as () => unknown)()).toThrow(/BuildKit sessions .* not supported by edgekube/);
  });
});
