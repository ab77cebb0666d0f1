/**
 * The built-in API group/versions whose OpenAPI schemas we generate, shared by the two
 * generators (gen-openapi.mjs and extract-field-facts.mjs) so they never disagree on the set.
 * Each is upstream's Go package directory under k8s.io/api, and its OpenAPI name prefix is
 * `io.k8s.api.<group>.<version>`.
 */
export const API_GROUP_VERSIONS = [
  "core/v1",
  "apps/v1",
  "batch/v1",
  "discovery/v1",
  "storage/v1",
  "coordination/v1",
  "networking/v1",
  "rbac/v1",
  "policy/v1",
  "events/v1",
  "autoscaling/v1",
  "authorization/v1",
  "authentication/v1",
];

/** upstream's OpenAPI definition-name prefix for a k8s.io/api group/version */
export const apiPrefix = (gv) => `io.k8s.api.${gv.replace("/", ".")}`;
