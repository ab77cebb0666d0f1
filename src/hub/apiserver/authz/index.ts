/** RBAC authorization for the hub's API server: see docs/apiserver.md § Authorization. */
export { type Attributes, forbiddenError, forbiddenMessage, requestAttributes } from "./attributes.js";
export { bootstrapPolicy, ensureBootstrapPolicy } from "./bootstrap-policy.js";
export { EscalationCheck, uncovered } from "./escalation.js";
export { impersonatedUser } from "./impersonation.js";
export { type PolicySource, RbacPolicyCache, rbacRefs } from "./policy-cache.js";
export {
  type Authorizer,
  type Decision,
  MASTERS_GROUP,
  RbacAuthorizer,
  type RulesResult,
} from "./rbac-authorizer.js";
export { authorizeRequest } from "./request-authz.js";
export * from "./rules.js";
