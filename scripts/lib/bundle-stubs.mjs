// esbuild plugins shared by the dev bundle (scripts/build-dev.mjs) and the release bundle
// (scripts/build-release.mjs) that keep modules we never use out of the processes' memory.
//
// Design notes
// - dockerode 5 / docker-modem 5 require their SSH transport (ssh2, which instantiates a
//   16 MiB WebAssembly memory for poly1305 at import) and their BuildKit session (@grpc/grpc-js,
//   @grpc/proto-loader) at the top of docker.js / modem.js, although both are only used for
//   `ssh://` DOCKER_HOST and `docker build` with BuildKit. edgekube only talks to the local
//   unix socket and never builds images, so these requires resolve to a stub that throws a clear
//   error if a code path ever reaches them. Measured by import on node 20: dockerode alone
//   +27 MiB RSS, with the stubs +2 MiB (see bench/agent-idle.ts for the whole agent).
// - The stubs only take effect for code that goes through esbuild: the dev bundle therefore
//   bundles dockerode and docker-modem (Apache-2.0, like edgekube) instead of leaving them
//   external; their other dependencies stay external and are loaded with a real `require`
//   (createRequire banner), so node_modules is still the one source of npm code.
// - protobufjs (dockerode's buildkit.js) is required lazily inside buildImage() and is a
//   dependency of the hub anyway, so it is left alone.

/** npm module ids that are replaced by a throwing stub, with the reason shown to the user. */
export const UNSUPPORTED_TRANSPORTS = {
  ssh2: "the SSH transport to Docker (DOCKER_HOST=ssh://…) is not supported by edgekube: use the local unix socket (unix:///var/run/docker.sock)",
  "@grpc/grpc-js":
    "BuildKit sessions (docker build with BuildKit) are not supported by edgekube: build images with the docker CLI and `edgekube image import`",
  "@grpc/proto-loader":
    "BuildKit sessions (docker build with BuildKit) are not supported by edgekube: build images with the docker CLI and `edgekube image import`",
  // mqtt 5's tcp transport requires its SOCKS proxy support (socks, ip-address, smart-buffer:
  // ≈250 KB of source held by every agent) at load; edgekube never sets `socksProxy`
  socks:
    "SOCKS proxies for the MQTT link are not supported by edgekube: connect to the hub directly or over WebSocket (edge-agent --mqtt-websocket)",
  // dockerode's util.js requires tar-fs (with tar-stream, bl 4, readable-stream 3, pump, …) and
  // @balena/dockerignore at load for buildImage's context packing only; edgekube never builds
  "tar-fs":
    "building images (docker build) is not supported by edgekube: build them with the docker CLI and `edge-agent image import`",
  "@balena/dockerignore":
    "building images (docker build) is not supported by edgekube: build them with the docker CLI and `edge-agent image import`",
  // mqtt.js' timers in a browser tab; in node its "auto" timer variant is always the native one
  "worker-timers": "worker-timers (browser timers for mqtt.js) are not included in edgekube",
};

/**
 * Files inside bundled packages replaced by the same throwing stub: features of a package that
 * edgekube loads but never uses. dns2's index requires its DNS-over-HTTPS server and clients
 * (node:http2, https, url: ≈0.7 MiB of an idle agent's RSS); the agent serves plain UDP/TCP DNS
 * and forwards over UDP.
 */
export const UNUSED_FILES = [
  {
    filter: /[\\/]node_modules[\\/]dns2[\\/](server[\\/]doh|client[\\/](doh|google))\.js$/,
    message:
      "DNS over HTTPS (dns2's DoH server and clients) is not included in edgekube: the cluster DNS serves UDP and TCP",
  },
];

/**
 * Packages whose `readable-stream` import is served by node's own stream module. readable-stream
 * is a copy of node's streams for old nodes and browsers (3.x = node 10's, 4.x = node 18's): on
 * node ≥ 20 the built-in module is the same API, and the copies cost ≈0.4 MiB of source and
 * bytecode per agent (docker-modem's 3.x, and mqtt.js and bl's 4.x).
 */
/**
 * Modules that bundled packages require at load but use only on a path the agent rarely or never
 * takes: the require returns a stand-in that loads the real module on first use (lazySource).
 * Measured on an idle agent (bench/pods' probe): ws, lru-cache and zlib ≈0.5 MiB of RSS.
 */
export const LAZY_REQUIRES = [
  // mqtt.js requires ws (and through it zlib's permessage-deflate) on the first connect
  // whatever the URL's protocol: only wss:// (edge-agent --mqtt-websocket) uses it
  { importer: /[\\/]mqtt[\\/]build[\\/]lib[\\/]connect[\\/]ws\.js$/, ids: ["ws"] },
  // MQTT 5 topic aliases only; the edge link speaks MQTT 3.1.1
  { importer: /[\\/]mqtt[\\/]build[\\/]lib[\\/]topic-alias-(send|recv)\.js$/, ids: ["lru-cache"] },
  // gzip of a build context only (docker build)
  { importer: /[\\/]dockerode[\\/]lib[\\/]util\.js$/, ids: ["zlib"] },
];

const LAZY_NS = "edgekube-lazy-require";

/**
 * The module that stands for a lazily required one: a Proxy that requires the real module at
 * its first use (property read, call or `new`), so that behaviour is the real module's and only
 * the time it is loaded moves. `__esModule` is answered without loading: TypeScript's
 * __importDefault reads it at require time.
 */
export function lazySource(id) {
  return `let real;
const load = () => (real ??= require(${JSON.stringify(id)}));
module.exports = new Proxy(function lazyModule() {}, {
  get(_t, key) { return key === "__esModule" ? undefined : Reflect.get(load(), key); },
  has(_t, key) { return key in load(); },
  construct(_t, args) { return Reflect.construct(load(), args); },
  apply(_t, self, args) { return Reflect.apply(load(), self, args); },
});
`;
}

/**
 * mqtt-packet's parser keeps its input in `bl()`, bl's BufferListStream: a whole Duplex stream
 * (readable and writable state, listeners) used only as a list of buffers (append, consume,
 * readUInt*, slice, toString). bl's plain BufferList has the same methods without the stream.
 * Every MQTT connection has a parser (each aedes client in the hub, the agent's mqtt.js), so
 * the stream cost ≈ 1.1 KB of heap per connection (heap snapshot of bench/hub-memory, N = 1,000)
 * and its construction per connect. Other users of bl keep the stream.
 */
const PLAIN_BL_FOR = /[\\/]node_modules[\\/]mqtt-packet[\\/]parser\.js$/;
const PLAIN_BL_NS = "edgekube-plain-bl";
const PLAIN_BL_SOURCE = `const BufferList = require("bl/BufferList.js");
module.exports = function bl() { return new BufferList(); };
`;

const NODE_STREAM_FOR = /[\\/]node_modules[\\/](docker-modem|mqtt|mqtt-packet|bl)[\\/]/;

const STUB_NS = "edgekube-unsupported-transport";

/**
 * Replaces the modules in UNSUPPORTED_TRANSPORTS with a module whose every export is a function
 * that throws when called or constructed. Requiring it and reading its exports succeed
 * (docker-modem reads `require("ssh2").Client` at load time and must still load); using it fails
 * with the message above.
 */
export const unsupportedTransportStubs = {
  name: "unsupported-transport-stubs",
  setup(b) {
    const ids = Object.keys(UNSUPPORTED_TRANSPORTS).map((id) => id.replace(/[/@.-]/g, "\\$&"));
    b.onResolve({ filter: new RegExp(`^(${ids.join("|")})$`) }, (a) => ({
      path: a.path,
      namespace: STUB_NS,
    }));
    b.onLoad({ filter: /.*/, namespace: STUB_NS }, (a) => ({
      loader: "js",
      contents: stubSource(UNSUPPORTED_TRANSPORTS[a.path] ?? `${a.path} is not included in edgekube`),
    }));
    for (const { filter, message } of UNUSED_FILES) {
      b.onLoad({ filter }, () => ({ loader: "js", contents: stubSource(message) }));
    }
    const lazyIds = [...new Set(LAZY_REQUIRES.flatMap((l) => l.ids))];
    b.onResolve({ filter: new RegExp(`^(${lazyIds.join("|")})$`) }, (a) =>
      a.namespace !== LAZY_NS &&
      LAZY_REQUIRES.some((l) => l.ids.includes(a.path) && l.importer.test(a.importer))
        ? { path: a.path, namespace: LAZY_NS }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: LAZY_NS }, (a) => ({
      loader: "js",
      contents: lazySource(a.path),
      // the real module resolves from the package that asked for it
      resolveDir: process.cwd(),
    }));
    b.onResolve({ filter: /^bl$/ }, (a) =>
      PLAIN_BL_FOR.test(a.importer) ? { path: "bl", namespace: PLAIN_BL_NS } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: PLAIN_BL_NS }, () => ({
      loader: "js",
      contents: PLAIN_BL_SOURCE,
      resolveDir: process.cwd(),
    }));
    b.onResolve({ filter: /^readable-stream$/ }, (a) =>
      NODE_STREAM_FOR.test(a.importer) ? { path: "node:stream", external: true } : undefined,
    );
  },
};

function stubSource(message) {
  return `const msg = ${JSON.stringify(message)};
function unsupported() { throw new Error(msg); }
module.exports = new Proxy({}, {
  get(_t, key) { return typeof key === "string" && key !== "__esModule" && key !== "then" ? unsupported : undefined; },
});
`;
}

/**
 * Packages the dev bundle compiles in (so their requires go through the stubs above). aedes is
 * here because mqtt-packet is: an external aedes loaded its own mqtt-packet (and bl and
 * readable-stream 4) from node_modules beside the bundled copy, so the hub held two encoders and
 * broker-aedes.ts' `cacheNumbers = false` reached only the copy aedes did not use (≈6.4 MB of
 * number cache in every dev-bundle hub, seen in a heap snapshot of bench/hub-memory).
 */
export const BUNDLED_IN_DEV = ["dockerode", "docker-modem", "mqtt", "mqtt-packet", "bl", "dns2", "aedes"];

/**
 * CommonJS packages that both roles load at start and that the dev bundle loads with the
 * chunk's real `require()` instead of an ESM `import`. Node imports a CommonJS package into ESM
 * through its ESM loader: it reads the source, scans it for export names (cjs-module-lexer) and
 * builds a facade module. Measured by import alone (node 20): pino + better-sqlite3 + ipaddr.js
 * 55.3 MB RSS / 5.25 MB heap imported, 50.0 MB / 4.33 MB required (docs/hub-memory.md).
 * Only packages whose module.exports is their whole API belong here (esbuild's interop then
 * reads default and named imports from it, as Node's ESM loader would).
 */
export const REQUIRED_IN_DEV = ["pino", "better-sqlite3", "ipaddr.js"];

const REQUIRE_NS = "edgekube-cjs-require";

/**
 * For the dev bundle: every bare import stays external (node_modules at run time), except the
 * packages in BUNDLED_IN_DEV and the files inside them; the packages in REQUIRED_IN_DEV become
 * a one-line CommonJS module `module.exports = require("pkg")`, whose require stays external.
 */
export const externalExceptDocker = {
  name: "external-except-docker",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.path.startsWith("node:")) return { path: a.path, external: true };
      const pkg = a.path.startsWith("@") ? a.path.split("/").slice(0, 2).join("/") : a.path.split("/")[0];
      if (BUNDLED_IN_DEV.includes(pkg) || pkg in UNSUPPORTED_TRANSPORTS) return undefined;
      if (REQUIRED_IN_DEV.includes(pkg) && a.namespace !== REQUIRE_NS)
        return { path: a.path, namespace: REQUIRE_NS };
      return { path: a.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: REQUIRE_NS }, (a) => ({
      loader: "js",
      contents: `module.exports = require(${JSON.stringify(a.path)});\n`,
    }));
  },
};
