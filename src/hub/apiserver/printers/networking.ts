/**
 * Printers for networking.k8s.io ingresses and discovery.k8s.io endpointslices (upstream
 * printers.go v1.32).
 *
 * Design notes:
 * - Lists are cut after 3 entries with "+ N more..." like upstream, so a 1000-endpoint slice
 *   still fits a terminal line; an empty list prints "<unset>".
 * - Ingress ADDRESS is the sorted, de-duplicated set of load-balancer IPs (or hostnames), never
 *   clipped server-side; PORTS is "80" or "80, 443" when any TLS block exists.
 */
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Ingress, IngressRule } from "kubernetes-types/networking/v1";
import { D } from "./descriptions.js";
import { listWithMore, sortedUnique } from "./format.js";
import { AGE_COLUMN, ageOf, column, NAME_COLUMN, nameOf, printer } from "./printer.js";

/** formatHosts: the first 3 non-empty hosts, "*" when none. */
function formatHosts(rules: readonly IngressRule[] | undefined): string {
  const list = rules ?? [];
  const max = 3;
  const hosts: string[] = [];
  let more = false;
  for (const r of list) {
    if (hosts.length === max) more = true;
    if (!more && r.host) hosts.push(r.host);
  }
  if (hosts.length === 0) return "*";
  const ret = hosts.join(",");
  return more ? `${ret} + ${list.length - max} more...` : ret;
}

function ingressAddress(ing: Ingress): string {
  const names: string[] = [];
  for (const i of ing.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) names.push(i.ip);
    else if (i.hostname) names.push(i.hostname);
  }
  return sortedUnique(names).join(",");
}

export const ingressPrinter = printer<Ingress>(
  [
    NAME_COLUMN,
    column(
      "Class",
      "string",
      "The name of the IngressClass resource that should be used for additional configuration",
    ),
    column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    column("Ports", "string", "Ports of TLS configurations that open"),
    AGE_COLUMN,
  ],
  (ing, now) => [
    nameOf(ing),
    ing.spec?.ingressClassName ?? "<none>",
    formatHosts(ing.spec?.rules),
    ingressAddress(ing),
    (ing.spec?.tls ?? []).length > 0 ? "80, 443" : "80",
    ageOf(ing, now),
  ],
);

export const endpointSlicePrinter = printer<EndpointSlice>(
  [
    NAME_COLUMN,
    column("AddressType", "string", D.endpointSliceAddressType),
    column("Ports", "string", D.endpointSlicePorts),
    column("Endpoints", "string", D.endpointSliceEndpoints),
    AGE_COLUMN,
  ],
  (eps, now) => {
    const ports = (eps.ports ?? []).map((p) =>
      p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? "*"),
    );
    const addresses = (eps.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return [
      nameOf(eps),
      eps.addressType ?? "",
      listWithMore(ports),
      listWithMore(addresses),
      ageOf(eps, now),
    ];
  },
);
