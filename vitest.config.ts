import { defineConfig } from "vitest/config";

// Three tiers (STYLE.md): unit tests of pure logic, integration tests with real parts
// (SQLite file, aedes broker, dockerd, network namespaces), and end-to-end tests that
// drive the real kubectl against a running hub.
export default defineConfig({
  test: {
    // most integration tests wait on timers, sockets and child processes rather than CPU, so
    // more files than cores run at once (vitest's default is cores - 1 = 1 on these machines)
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "integration", include: ["test/integration/**/*.test.ts"] } },
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"] } },
    ],
  },
});
