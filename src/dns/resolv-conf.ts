/**
 * resolv.conf for pods with dnsPolicy ClusterFirst (the default), as the kubelet writes it.
 *
 * Design notes
 * - `search <ns>.svc.<zone> svc.<zone> <zone>` plus `ndots:5` is what lets a pod say `web` or
 *   `web.other-ns` and reach the service: any name with fewer than five dots is tried against the
 *   search list first, and the cluster DNS answers NXDOMAIN locally for misses (see names.ts).
 * - The pod's own dnsConfig (extra nameservers, searches, options) is appended as the kubelet
 *   does; glibc reads at most 3 nameservers and 6 search domains, so the lists are capped.
 */

export interface PodResolvConfInput {
  namespace: string;
  /** cluster DNS address (default 10.43.0.10) */
  nameserver?: string;
  zone?: string;
  ndots?: number;
  /** from pod.spec.dnsConfig */
  extraNameservers?: readonly string[];
  extraSearches?: readonly string[];
  extraOptions?: readonly { name: string; value?: string }[];
}

export const CLUSTER_DNS_IP = "10.43.0.10";

export function podResolvConf(i: PodResolvConfInput): string {
  const zone = i.zone ?? "cluster.local";
  const servers = [i.nameserver ?? CLUSTER_DNS_IP, ...(i.extraNameservers ?? [])].slice(0, 3);
  const searches = [`${i.namespace}.svc.${zone}`, `svc.${zone}`, zone, ...(i.extraSearches ?? [])];
  const unique = [...new Set(searches)].slice(0, 6);
  const options = new Map<string, string | undefined>([["ndots", String(i.ndots ?? 5)]]);
  for (const o of i.extraOptions ?? []) options.set(o.name, o.value);
  const opts = [...options].map(([k, v]) => (v === undefined ? k : `${k}:${v}`));
  return [
    ...servers.map((s) => `nameserver ${s}`),
    `search ${unique.join(" ")}`,
    `options ${opts.join(" ")}`,
    "",
  ].join("\n");
}
