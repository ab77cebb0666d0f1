/**
 * `scripts/dev-cluster up [--agents 3] | down | status`: the CLI over DevCluster.
 * State in <repo>/.dev-cluster; the hub on 198.51.100.1:6443 (MQTT 8883); nodes 198.51.100.11…
 */
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureBusyboxImage } from "../../../test/helpers/images.js";
import { DevCluster } from "./cluster.js";
import { isOurs } from "./procs.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const USAGE = `Usage: scripts/dev-cluster <command>

  up [--agents N]   start a hub and N edge agents (default 3), each agent in its own network
                    namespace with its own dockerd; prints the kubeconfig path
  down              stop and remove everything "up" created
  status            show what runs

State: ${join(repo, ".dev-cluster")} (logs: hub.log, nodes/<node>/agent.log, dockerd.log)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { agents: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  const cmd = positionals[0];
  if (values.help || cmd === undefined) {
    process.stdout.write(USAGE);
    return cmd === undefined && !values.help ? 2 : 0;
  }
  const cluster = new DevCluster({
    root: join(repo, ".dev-cluster"),
    prefix: "ekdev",
    underlay: "198.51.100.0/24",
    httpsPort: 6443,
    mqttPort: 8883,
    launcher: join(repo, "bin", "edgekube.mjs"),
    image: "edgekube/busybox:test",
    log: (m) => process.stdout.write(`dev-cluster: ${m}\n`),
  });
  switch (cmd) {
    case "up": {
      const agents = Number(values.agents ?? "3");
      if (!Number.isInteger(agents))
        throw new Error(`--agents must be a whole number, got "${values.agents}"`);
      execFileSync("node", [join(repo, "scripts", "build-dev.mjs")], { cwd: repo, stdio: "inherit" });
      ensureBusyboxImage();
      try {
        await cluster.up(agents);
      } catch (err) {
        process.stderr.write(`dev-cluster: up failed: ${(err as Error).message}\ndev-cluster: cleaning up\n`);
        await cluster.down();
        return 1;
      }
      process.stdout.write(
        `dev-cluster: ready with ${agents} agent(s)\n\n  export KUBECONFIG=${cluster.kubeconfig}\n  kubectl get nodes -o wide\n`,
      );
      return 0;
    }
    case "down":
      await cluster.down();
      process.stdout.write("dev-cluster: down (nothing recorded is left)\n");
      return 0;
    case "status": {
      let s: DevCluster["state"];
      try {
        s = cluster.state;
      } catch {
        process.stdout.write("dev-cluster: not up\n");
        return 0;
      }
      const alive = (p: { pid: number; marker: string; log: string } | undefined) =>
        p ? `${isOurs(p) ? "running" : "stopped"} (pid ${p.pid})` : "not started";
      process.stdout.write(
        `hub      ${s.hostIP}:${s.httpsPort}  ${alive(s.hub)}\nkubeconfig ${s.kubeconfig}\n`,
      );
      for (const n of s.nodes) {
        process.stdout.write(
          `${n.name.padEnd(8)} ${n.ip.padEnd(15)} netns ${n.netns}  dockerd ${alive(n.dockerd)}  agent ${alive(n.agent)}\n`,
        );
      }
      return 0;
    }
    default:
      process.stderr.write(`dev-cluster: unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`dev-cluster: ${err.message}\n`);
    process.exit(1);
  },
);
