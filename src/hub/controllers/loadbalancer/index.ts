/** LoadBalancer services on the hub: klipper-style node addresses or address pools. */
export {
  decideLoadBalancers,
  EDGEKUBE_ENABLE_LB_LABEL,
  EDGEKUBE_LB_POOL_LABEL,
  ingressText,
  isOurLoadBalancer,
  type LbDecision,
  parseAddressPool,
} from "./lb-decide.js";
export { LoadBalancerController, type LoadBalancerControllerOptions } from "./loadbalancer-controller.js";
