/**
 * The x64 release executable as an agent, the way scripts/image-test runs it against the Pi
 * image's hub: `edgekube agent join … --no-pods` (link and cache only, nothing changed on this
 * host's network) to a hub started from the same executable, with a token from
 * `edge-hub token create`, over mqtts and over MQTT-on-WebSocket (the single forwarded port
 * image-test uses). Checks what a user would: the Node is Ready with the agent's arch label and
 * `edge-agent status` says the link is connected.
 * EDGEKUBE_REUSE_RELEASE=1 uses dist/release as it is instead of an incremental rebuild.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hasKubectl, need } from "../helpers/prereq.js";
import {
  buildRelease,
  createExeToken,
  type ExeAgent,
  type ExeHub,
  exePath,
  run,
  startExeAgent,
  startExeHub,
} from "../helpers/release-exe.js";

const MINUTE = 60_000;

describe.skipIf(!need(hasKubectl()))("x64 release agent joins a release hub (--no-pods)", () => {
  let hub: ExeHub | undefined;
  const agents: ExeAgent[] = [];
  const suffix = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    if (process.env.EDGEKUBE_REUSE_RELEASE !== "1" || !existsSync(exePath("amd64"))) await buildRelease();
    hub = await startExeHub("amd64");
    await hub.ready;
  }, 25 * MINUTE);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await hub?.stop();
  }, MINUTE);

  const kubectl = (args: string[]) => {
    if (!hub) throw new Error("no hub");
    return run("/usr/bin/kubectl", ["--kubeconfig", hub.kubeconfig, ...args], { env: { HOME: hub.dataDir } });
  };

  it.each([
    ["mqtts", false],
    ["mqtt over websocket", true],
  ])(
    "joins over %s, its Node turns Ready and status says connected",
    async (_how, mqttWebSocket) => {
      if (!hub) throw new Error("no hub");
      const token = await createExeToken(hub);
      expect(token).toMatch(/^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$/);
      const name = `rel-${mqttWebSocket ? "ws" : "tls"}-${suffix}`;
      const agent = startExeAgent("amd64", hub, token, name, { mqttWebSocket });
      agents.push(agent);
      await agent.connected(2 * MINUTE);

      const status = await run(exePath("amd64"), ["agent", "status", "--data-dir", agent.dataDir]);
      expect(status.stdout).toContain(mqttWebSocket ? "/mqtt" : "mqtts://");

      await vi.waitFor(
        async () => {
          const r = await kubectl([
            "get",
            "node",
            name,
            "-o",
            `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.metadata.labels.kubernetes\\.io/arch}`,
          ]);
          expect(r.stderr).toBe("");
          expect(r.stdout).toBe("True amd64");
        },
        { timeout: MINUTE, interval: 500 },
      );
    },
    5 * MINUTE,
  );
});
