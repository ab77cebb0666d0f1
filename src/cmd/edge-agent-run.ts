/**
 * The running agent's process wiring, shared by `edge-agent join` (after it joined) and
 * `edge-agent run`: stored state → EdgeAgent (link and cache) → NodeWorkloads (Docker, pod
 * network, services) → wait for a signal → stop in reverse order → exit.
 *
 * Design notes
 * - The sub-commands parse and validate their flags (edge-agent.ts); what they chose reaches this
 *   file as one WorkloadChoice, so no argv is read here. The environment is read once, for the
 *   V8 flags switch (enableBaselineCompilerOnce), which is why this lives under src/cmd.
 * - The link starts first and the workloads second: pods are adopted from the agent's cache. A
 *   workloads start that fails stops both before the error reaches the user (exit 1).
 * - Stop order is the reverse: pods' runtime, network and services read the agent's cache, so
 *   they go before the link.
 * - Once stopped, a handle some library left open must not keep the process alive: a systemd stop
 *   would wait its whole timeout (90 s by default) and then SIGKILL (exitIfStillAlive).
 */
import Docker from "dockerode";
import {
  agentPaths,
  EdgeAgent,
  gatherNodeFacts,
  loadAgentConfig,
  loadCredentials,
} from "../edge-agent/index.js";
import { NodeWorkloads } from "../edge-agent/node-workloads.js";
import { DockerRuntime, scopeToNode } from "../edge-agent/runtime/index.js";
import { enableBaselineCompilerOnce } from "../lib/heap-tuning.js";
import type { Logger } from "../lib/logger.js";
import { EDGEKUBE_VERSION } from "../lib/version.js";

/** what `join` and `run` chose for the node's workloads (their shared flags, validated) */
export interface WorkloadChoice {
  flannelIface?: string;
  flannelDirectRouting?: boolean;
  sandboxImage: string;
  sandboxCommand: string[];
  dockerSocket?: string;
  pods: boolean;
  services: boolean;
  clusterDNS?: string;
  nodeIP?: string;
}

/** runs the joined agent in dataDir until SIGINT or SIGTERM; resolves 0 once everything stopped */
export async function runAgent(dataDir: string, logger: Logger, choice: WorkloadChoice): Promise<number> {
  const paths = agentPaths(dataDir);
  const stored = loadAgentConfig(paths);
  const config = choice.nodeIP ? { ...stored, nodeIP: choice.nodeIP } : stored;
  const credentials = loadCredentials(paths, stored);
  const facts = await gatherNodeFacts(
    dataDir,
    choice.dockerSocket ? { docker: new Docker({ socketPath: choice.dockerSocket }) } : {},
  );
  const agent = new EdgeAgent({
    dataDir,
    config,
    credentials,
    facts,
    agentVersion: EDGEKUBE_VERSION,
    logger,
    // volumes of pods that still have containers are never reclaimed; until the runtime is up
    // nobody can say which pods it holds, so reclaim waits (the pass is retried) rather than
    // taking "no runtime yet" for "no pods"
    storage: {
      runtimePods: async () => {
        if (workloads) return (await workloads.runtime.listPods()).map((p) => p.uid);
        if (choice.pods) throw new Error("the container runtime is not started yet");
        return [];
      },
    },
  });
  let workloads: NodeWorkloads | undefined;
  await agent.start();
  if (choice.pods) {
    // only this node's containers are adopted or removed, even on a shared Docker Engine
    const docker = scopeToNode(
      choice.dockerSocket ? new Docker({ socketPath: choice.dockerSocket }) : new Docker(),
      config.nodeName,
    );
    workloads = new NodeWorkloads({
      onStream: enableBaselineCompilerOnce(process.env),
      agent,
      config,
      dataDir,
      sandboxImage: choice.sandboxImage,
      services: choice.services,
      ...(choice.clusterDNS ? { clusterDNS: choice.clusterDNS } : {}),
      runtime: new DockerRuntime({
        docker,
        sandboxImage: choice.sandboxImage,
        sandboxCommand: choice.sandboxCommand,
        logger,
      }),
      ...(choice.flannelIface ? { flannelIface: choice.flannelIface } : {}),
      ...(choice.flannelDirectRouting ? { flannelDirectRouting: true } : {}),
      logger,
    });
    try {
      await workloads.start();
    } catch (err) {
      await workloads.stop();
      await agent.stop();
      throw err;
    }
  }
  process.stdout.write(`edge-agent: node "${config.nodeName}" running (hub ${config.hubUrl})\n`);
  await new Promise<void>((done) => {
    // pods' runtime, network and services first (they read the agent's cache), then the link
    const stop = (sig: string) => {
      logger.info({ signal: sig }, "stopping");
      Promise.resolve(workloads?.stop())
        .then(() => agent.stop())
        .then(done, done);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  exitIfStillAlive(logger);
  return 0;
}

/**
 * Everything is stopped; a handle some library left open must not keep the process alive (a
 * systemd stop would wait its whole timeout, 90 s by default, and then SIGKILL): say which
 * handles were left and exit. The timer is unref'd, so a clean stop exits before it fires.
 */
function exitIfStillAlive(logger: Logger): void {
  setTimeout(() => {
    logger.warn({ handles: process.getActiveResourcesInfo() }, "handles left open after stop; exiting");
    process.exit(0);
  }, 2_000).unref();
}
