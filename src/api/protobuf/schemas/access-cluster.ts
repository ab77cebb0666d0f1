/**
 * Schemas of the access groups (rbac/v1, authorization/v1 reviews sent by `kubectl auth can-i`,
 * authentication/v1 SelfSubjectReview / TokenRequest sent by `auth whoami` / `create token`)
 * and the small cluster groups (policy/v1, networking/v1, scheduling/v1).
 * Facts from k8s.io/api generated.proto and types.go; format described in ../schema.ts.
 */
import type { SchemaSource } from "../schema.js";

export const rbacV1Source: SchemaSource = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kinds: ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
  messages: {
    AggregationRule: "1 clusterRoleSelectors LabelSelector[]",
    ClusterRole: "1 metadata ObjectMeta, 2 rules PolicyRule[], 3 aggregationRule AggregationRule",
    ClusterRoleBinding: "1 metadata ObjectMeta, 2 subjects Subject[], 3 roleRef RoleRef",
    PolicyRule:
      "1 verbs string[], 2 apiGroups string[], 3 resources string[], 4 resourceNames string[], " +
      "5 nonResourceURLs string[]",
    Role: "1 metadata ObjectMeta, 2 rules PolicyRule[]",
    RoleBinding: "1 metadata ObjectMeta, 2 subjects Subject[], 3 roleRef RoleRef",
    RoleRef: "1 apiGroup string !, 2 kind string !, 3 name string !",
    Subject: "1 kind string !, 2 apiGroup string, 3 name string !, 4 namespace string",
  },
};

export const authorizationV1Source: SchemaSource = {
  apiVersion: "authorization.k8s.io/v1",
  kinds: [
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
    "LocalSubjectAccessReview",
  ],
  messages: {
    FieldSelectorAttributes: "1 rawSelector string, 2 requirements FieldSelectorRequirement[]",
    LabelSelectorAttributes: "1 rawSelector string, 2 requirements LabelSelectorRequirement[]",
    LocalSubjectAccessReview:
      "1 metadata ObjectMeta, 2 spec SubjectAccessReviewSpec, 3 status SubjectAccessReviewStatus",
    NonResourceAttributes: "1 path string, 2 verb string",
    NonResourceRule: "1 verbs string[], 2 nonResourceURLs string[]",
    ResourceAttributes:
      "1 namespace string, 2 verb string, 3 group string, 4 version string, 5 resource string, " +
      "6 subresource string, 7 name string, 8 fieldSelector FieldSelectorAttributes, " +
      "9 labelSelector LabelSelectorAttributes",
    ResourceRule: "1 verbs string[], 2 apiGroups string[], 3 resources string[], 4 resourceNames string[]",
    SelfSubjectAccessReview:
      "1 metadata ObjectMeta, 2 spec SelfSubjectAccessReviewSpec, 3 status SubjectAccessReviewStatus",
    SelfSubjectAccessReviewSpec:
      "1 resourceAttributes ResourceAttributes, 2 nonResourceAttributes NonResourceAttributes",
    SelfSubjectRulesReview:
      "1 metadata ObjectMeta, 2 spec SelfSubjectRulesReviewSpec, 3 status SubjectRulesReviewStatus",
    SelfSubjectRulesReviewSpec: "1 namespace string",
    SubjectAccessReview:
      "1 metadata ObjectMeta, 2 spec SubjectAccessReviewSpec, 3 status SubjectAccessReviewStatus",
    SubjectAccessReviewSpec:
      "1 resourceAttributes ResourceAttributes, 2 nonResourceAttributes NonResourceAttributes, " +
      "3 user string, 4 groups string[], 5 extra map<StringList>, 6 uid string",
    SubjectAccessReviewStatus: "1 allowed bool !, 4 denied bool, 2 reason string, 3 evaluationError string",
    SubjectRulesReviewStatus:
      "1 resourceRules ResourceRule[], 2 nonResourceRules NonResourceRule[], 3 incomplete bool !, " +
      "4 evaluationError string",
  },
};

export const authenticationV1Source: SchemaSource = {
  apiVersion: "authentication.k8s.io/v1",
  kinds: ["SelfSubjectReview", "TokenRequest", "TokenReview"],
  messages: {
    BoundObjectReference: "1 kind string, 2 apiVersion string, 3 name string, 4 uid string",
    SelfSubjectReview: "1 metadata ObjectMeta, 2 status SelfSubjectReviewStatus",
    SelfSubjectReviewStatus: "1 userInfo UserInfo",
    TokenRequest: "1 metadata ObjectMeta, 2 spec TokenRequestSpec, 3 status TokenRequestStatus",
    TokenRequestSpec:
      "1 audiences string[], 4 expirationSeconds int64 !, 3 boundObjectRef BoundObjectReference, " +
      "5 attestations map<StringList>",
    TokenRequestStatus: "1 token string !, 2 expirationTimestamp Time",
    TokenReview: "1 metadata ObjectMeta, 2 spec TokenReviewSpec, 3 status TokenReviewStatus",
    TokenReviewSpec: "1 token string, 2 audiences string[]",
    TokenReviewStatus: "1 authenticated bool, 2 user UserInfo, 4 audiences string[], 3 error string",
    UserInfo: "1 username string, 2 uid string, 3 groups string[], 4 extra map<StringList>",
  },
};

export const policyV1Source: SchemaSource = {
  apiVersion: "policy/v1",
  kinds: ["PodDisruptionBudget", "Eviction"],
  messages: {
    Eviction: "1 metadata ObjectMeta, 2 deleteOptions DeleteOptions",
    PodDisruptionBudget:
      "1 metadata ObjectMeta, 2 spec PodDisruptionBudgetSpec, 3 status PodDisruptionBudgetStatus",
    PodDisruptionBudgetSpec:
      "1 minAvailable IntOrString, 2 selector LabelSelector, 3 maxUnavailable IntOrString, " +
      "4 unhealthyPodEvictionPolicy string !",
    PodDisruptionBudgetStatus:
      "1 observedGeneration int64, 2 disruptedPods map<Time>, 3 disruptionsAllowed int32 !, " +
      "4 currentHealthy int32 !, 5 desiredHealthy int32 !, 6 expectedPods int32 !, " +
      "7 conditions Condition[]",
  },
};

export const networkingV1Source: SchemaSource = {
  apiVersion: "networking.k8s.io/v1",
  kinds: ["Ingress", "IngressClass", "NetworkPolicy"],
  messages: {
    HTTPIngressPath: "1 path string, 3 pathType string !, 2 backend IngressBackend",
    HTTPIngressRuleValue: "1 paths HTTPIngressPath[]",
    IPBlock: "1 cidr string !, 2 except string[]",
    Ingress: "1 metadata ObjectMeta, 2 spec IngressSpec, 3 status IngressStatus",
    IngressBackend: "4 service IngressServiceBackend, 3 resource TypedLocalObjectReference",
    IngressClass: "1 metadata ObjectMeta, 2 spec IngressClassSpec",
    IngressClassParametersReference:
      "1 apiGroup string !, 2 kind string !, 3 name string !, 4 scope string !, 5 namespace string !",
    IngressClassSpec: "1 controller string, 2 parameters IngressClassParametersReference",
    IngressLoadBalancerIngress: "1 ip string, 2 hostname string, 4 ports IngressPortStatus[]",
    IngressLoadBalancerStatus: "1 ingress IngressLoadBalancerIngress[]",
    IngressPortStatus: "1 port int32 !, 2 protocol string !, 3 error string !",
    IngressRule: "1 host string, 2 ingressRuleValue IngressRuleValue inline",
    IngressRuleValue: "1 http HTTPIngressRuleValue",
    IngressServiceBackend: "1 name string !, 2 port ServiceBackendPort",
    IngressSpec:
      "4 ingressClassName string !, 1 defaultBackend IngressBackend, 2 tls IngressTLS[], " +
      "3 rules IngressRule[]",
    IngressStatus: "1 loadBalancer IngressLoadBalancerStatus",
    IngressTLS: "1 hosts string[], 2 secretName string",
    NetworkPolicy: "1 metadata ObjectMeta, 2 spec NetworkPolicySpec",
    NetworkPolicyEgressRule: "1 ports NetworkPolicyPort[], 2 to NetworkPolicyPeer[]",
    NetworkPolicyIngressRule: "1 ports NetworkPolicyPort[], 2 from NetworkPolicyPeer[]",
    NetworkPolicyPeer: "1 podSelector LabelSelector, 2 namespaceSelector LabelSelector, 3 ipBlock IPBlock",
    NetworkPolicyPort: "1 protocol string !, 2 port IntOrString, 3 endPort int32 !",
    NetworkPolicySpec:
      "1 podSelector LabelSelector, 2 ingress NetworkPolicyIngressRule[], " +
      "3 egress NetworkPolicyEgressRule[], 4 policyTypes string[]",
    ServiceBackendPort: "1 name string, 2 number int32",
  },
};

export const schedulingV1Source: SchemaSource = {
  apiVersion: "scheduling.k8s.io/v1",
  kinds: ["PriorityClass"],
  messages: {
    PriorityClass:
      "1 metadata ObjectMeta, 2 value int32 !, 3 globalDefault bool, 4 description string, " +
      "5 preemptionPolicy string !",
  },
};

export const accessClusterSources: readonly SchemaSource[] = [
  rbacV1Source,
  authorizationV1Source,
  authenticationV1Source,
  policyV1Source,
  networkingV1Source,
  schedulingV1Source,
];
