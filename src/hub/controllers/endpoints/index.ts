/** Service endpoints: Endpoints, EndpointSlices and the `kubernetes` service. */
export { EndpointsController } from "./endpoints-controller.js";
export { desiredEndpoints, desiredSubsets } from "./endpoints-subsets.js";
export { EndpointSliceController } from "./endpointslice-controller.js";
export {
  type ApiserverEndpoint,
  KUBERNETES_SERVICE_IP,
  KubernetesServiceController,
} from "./kubernetes-service.js";
export { planSlices } from "./slice-plan.js";
