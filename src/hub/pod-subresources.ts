/**
 * The pod subresources the control plane serves through the API server's router
 * extensions: binding (`pods/binding` and the legacy `bindings` collection) and eviction.
 * The composition root builds them once and hands the same binder to the scheduler.
 */
import type { Client } from "../client/client.js";
import type { RouterExtensions } from "./apiserver/router.js";
import { Evictor, evictionHandler } from "./controllers/disruption/eviction.js";
import { bindingHandler, type PodBinder } from "./scheduler/binding.js";

export function podSubresources(
  binder: PodBinder,
  client: Client,
  now: () => Date,
): RouterExtensions["subresources"] {
  return new Map([
    ["/pods/binding", bindingHandler(binder, true)],
    ["/bindings/", bindingHandler(binder, false)],
    ["/pods/eviction", evictionHandler(new Evictor(client, now))],
  ]);
}
