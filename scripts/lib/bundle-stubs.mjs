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
};

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
      contents: `const msg = ${JSON.stringify(UNSUPPORTED_TRANSPORTS[a.path] ?? `${a.path} is not included in edgekube`)};
function unsupported() { throw new Error(msg); }
module.exports = new Proxy({}, {
  get(_t, key) { return typeof key === "string" && key !== "__esModule" && key !== "then" ? unsupported : undefined; },
});
`,
    }));
  },
};

/** Packages the dev bundle compiles in (so their requires go through the stubs above). */
export const BUNDLED_IN_DEV = ["dockerode", "docker-modem", "mqtt"];

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
