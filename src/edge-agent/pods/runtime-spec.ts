/**
 * v1 Pod → PodRuntimeSpec: the runtime's input, with env resolved and volumes as bind mounts.
 *
 * Design notes
 * - Pulls are the pod manager's (events, ImagePullBackOff), so the spec handed to the runtime
 *   says IfNotPresent for every container: by then the image is there, and a second pull inside
 *   runPod would double the traffic of `Always`.
 * - DNS: ClusterFirst pods (not hostNetwork) get the cluster DNS server, the search path
 *   `<ns>.svc.<domain> svc.<domain> <domain>` and ndots:5; Default and hostNetwork keep the host's;
 *   None uses dnsConfig only. dnsConfig is appended in every case, merged as the kubelet does
 *   (duplicates dropped, an option of the same name replaced by the pod's value) and cut to
 *   what resolvers read (3 nameservers, 32 search domains).
 * - imagePullSecrets of type kubernetes.io/dockerconfigjson give registry credentials: the first
 *   secret with an entry for the registry of the pod's first image wins.
 */
import type { Container, Pod } from "kubernetes-types/core/v1";
import type { ContainerRuntimeSpec, PodRuntimeSpec, RegistryAuth } from "../runtime/runtime.js";
import { configData } from "./env.js";
import type { PodSource } from "./ports.js";

export interface ClusterDNS {
  nameservers: string[];
  domain: string;
}

export interface ResolvedContainer {
  env: { name: string; value: string }[];
  mounts: ContainerRuntimeSpec["mounts"];
}

function containerSpec(c: Container, r: ResolvedContainer | undefined): ContainerRuntimeSpec {
  const preStop = c.lifecycle?.preStop?.exec?.command;
  const sec = c.securityContext;
  return {
    name: c.name,
    image: c.image ?? "",
    imagePullPolicy: "IfNotPresent",
    command: c.command,
    args: c.args,
    workingDir: c.workingDir,
    env: r?.env ?? [],
    // not passed on: Docker refuses ExposedPorts on a container that joins another's network
    // ("conflicting options: port exposing and the container type network mode"), and ports
    // are informational in Kubernetes anyway (probes resolve named ports from the pod spec)
    resources: c.resources,
    securityContext: sec
      ? {
          runAsUser: sec.runAsUser,
          runAsGroup: sec.runAsGroup,
          runAsNonRoot: sec.runAsNonRoot,
          privileged: sec.privileged,
          readOnlyRootFilesystem: sec.readOnlyRootFilesystem,
          allowPrivilegeEscalation: sec.allowPrivilegeEscalation,
          capabilities: sec.capabilities,
        }
      : undefined,
    mounts: r?.mounts ?? [],
    preStop: preStop && preStop.length > 0 ? preStop : undefined,
    stdin: c.stdin,
    stdinOnce: c.stdinOnce,
    tty: c.tty,
  };
}

export function podDNS(pod: Pod, cluster?: ClusterDNS): PodRuntimeSpec["dns"] {
  const spec = pod.spec;
  const policy = spec?.dnsPolicy ?? "ClusterFirst";
  const cfg = spec?.dnsConfig;
  const ns = pod.metadata?.namespace ?? "default";
  let dns: { nameservers: string[]; searches: string[]; options: string[] } | undefined;
  const clusterFirst =
    (policy === "ClusterFirst" && !spec?.hostNetwork) || policy === "ClusterFirstWithHostNet";
  if (clusterFirst && cluster && cluster.nameservers.length > 0) {
    const d = cluster.domain;
    dns = {
      nameservers: [...cluster.nameservers],
      searches: [`${ns}.svc.${d}`, `svc.${d}`, d],
      options: ["ndots:5"],
    };
  } else if (policy === "None") {
    dns = { nameservers: [], searches: [], options: [] };
  }
  if (cfg) {
    dns ??= { nameservers: [], searches: [], options: [] };
    dns.nameservers = [...new Set([...dns.nameservers, ...(cfg.nameservers ?? [])])];
    dns.searches = [...new Set([...dns.searches, ...(cfg.searches ?? [])])];
    const options = new Map(dns.options.map((o) => [o.split(":")[0] ?? o, o]));
    for (const o of cfg.options ?? []) {
      if (!o.name) continue;
      options.set(o.name, o.value === undefined ? o.name : `${o.name}:${o.value}`);
    }
    dns.options = [...options.values()];
  }
  if (dns) {
    dns.nameservers = dns.nameservers.slice(0, MAX_NAMESERVERS);
    dns.searches = dns.searches.slice(0, MAX_SEARCHES);
  }
  return dns;
}

/** glibc reads 3 nameservers; the kubelet keeps 32 search domains (MaxDNSSearchPaths) */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

function registryOf(image: string): string {
  const first = image.split("/")[0] ?? "";
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")
    ? first
    : "docker.io";
}

export function pullAuth(pod: Pod, source: PodSource): RegistryAuth | undefined {
  const image = pod.spec?.containers?.[0]?.image ?? "";
  const registry = registryOf(image);
  const ns = pod.metadata?.namespace ?? "";
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const secret = source.get("Secret", ns, ref.name ?? "");
    const raw = secret ? configData(secret).get(".dockerconfigjson") : undefined;
    if (!raw) continue;
    try {
      const auths =
        (JSON.parse(raw.toString("utf8")) as { auths?: Record<string, RegistryAuth> }).auths ?? {};
      for (const [server, a] of Object.entries(auths)) {
        const host = server.replace(/^https?:\/\//, "").split("/")[0] ?? "";
        const matches = host === registry || (registry === "docker.io" && host.endsWith("docker.io"));
        if (matches) return { ...a, serveraddress: server };
      }
    } catch {
      // a malformed pull secret is ignored like a missing one; the pull error names the registry
    }
  }
  return undefined;
}

/** The full runtime spec; `resolved` holds env and mounts per container name (absent: empty). */
export function runtimeSpec(
  pod: Pod,
  resolved: ReadonlyMap<string, ResolvedContainer>,
  opts: { cluster?: ClusterDNS; auth?: RegistryAuth },
): PodRuntimeSpec {
  const spec = pod.spec;
  const sc = spec?.securityContext;
  const hostname = spec?.hostname ?? pod.metadata?.name ?? "";
  return {
    uid: pod.metadata?.uid ?? "",
    name: pod.metadata?.name ?? "",
    namespace: pod.metadata?.namespace ?? "",
    hostname,
    hostNetwork: spec?.hostNetwork === true,
    shareProcessNamespace: spec?.shareProcessNamespace === true,
    terminationGracePeriodSeconds: spec?.terminationGracePeriodSeconds ?? 30,
    securityContext: sc
      ? {
          runAsUser: sc.runAsUser,
          runAsGroup: sc.runAsGroup,
          runAsNonRoot: sc.runAsNonRoot,
          supplementalGroups: sc.supplementalGroups,
          fsGroup: sc.fsGroup,
        }
      : undefined,
    dns: podDNS(pod, opts.cluster),
    initContainers: (spec?.initContainers ?? []).map((c) => containerSpec(c, resolved.get(c.name))),
    containers: (spec?.containers ?? []).map((c) => containerSpec(c, resolved.get(c.name))),
    pullAuth: opts.auth,
  };
}
