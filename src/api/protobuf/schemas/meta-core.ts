/**
 * Schemas of apimachinery's meta/v1 messages (ObjectMeta, LabelSelector, DeleteOptions, …) and
 * of the core/v1 kinds other than the pod machinery (ConfigMap, Secret, Service, …).
 * Facts (field numbers, JSON names, pointer/omitempty) from k8s.io/apimachinery and k8s.io/api
 * generated.proto and types.go; format described in ../schema.ts.
 */
import type { SchemaSource } from "../schema.js";

export const metaSource: SchemaSource = {
  apiVersion: "",
  kinds: [],
  messages: {
    Condition:
      "1 type string !, 2 status string !, 3 observedGeneration int64, 4 lastTransitionTime Time, " +
      "5 reason string !, 6 message string !",
    DeleteOptions:
      "1 gracePeriodSeconds int64 !, 2 preconditions Preconditions, 3 orphanDependents bool !, " +
      "4 propagationPolicy string !, 5 dryRun string[], " +
      "6 ignoreStoreReadErrorWithClusterBreakingPotential bool !",
    FieldSelectorRequirement: "1 key string !, 2 operator string !, 3 values string[]",
    LabelSelector: "1 matchLabels map<string>, 2 matchExpressions LabelSelectorRequirement[]",
    LabelSelectorRequirement: "1 key string !, 2 operator string !, 3 values string[]",
    ManagedFieldsEntry:
      "1 manager string, 2 operation string, 3 apiVersion string, 4 time Time, 6 fieldsType string, " +
      "7 fieldsV1 FieldsV1, 8 subresource string",
    ObjectMeta:
      "1 name string, 2 generateName string, 3 namespace string, 4 selfLink string, 5 uid string, " +
      "6 resourceVersion string, 7 generation int64, 8 creationTimestamp Time, " +
      "9 deletionTimestamp Time, 10 deletionGracePeriodSeconds int64 !, 11 labels map<string>, " +
      "12 annotations map<string>, 13 ownerReferences OwnerReference[], 14 finalizers string[], " +
      "17 managedFields ManagedFieldsEntry[]",
    OwnerReference:
      "5 apiVersion string !, 1 kind string !, 3 name string !, 4 uid string !, 6 controller bool !, " +
      "7 blockOwnerDeletion bool !",
    Preconditions: "1 uid string !, 2 resourceVersion string !",
  },
};

export const coreObjectsSource: SchemaSource = {
  apiVersion: "v1",
  kinds: [
    "ConfigMap",
    "Secret",
    "Namespace",
    "Service",
    "ServiceAccount",
    "ResourceQuota",
    "Pod",
    "PodTemplate",
    "Endpoints",
    "Event",
    "LimitRange",
    "PersistentVolumeClaim",
    "Binding",
  ],
  messages: {
    Binding: "1 metadata ObjectMeta, 2 target ObjectReference",
    ClientIPConfig: "1 timeoutSeconds int32 !",
    ConfigMap: "1 metadata ObjectMeta, 4 immutable bool !, 2 data map<string>, 3 binaryData map<bytes>",
    EndpointAddress: "1 ip string !, 3 hostname string, 4 nodeName string !, 2 targetRef ObjectReference",
    EndpointPort: "1 name string, 2 port int32 !, 3 protocol string, 4 appProtocol string !",
    EndpointSubset:
      "1 addresses EndpointAddress[], 2 notReadyAddresses EndpointAddress[], 3 ports EndpointPort[]",
    Endpoints: "1 metadata ObjectMeta, 2 subsets EndpointSubset[]",
    Event:
      "1 metadata ObjectMeta, 2 involvedObject ObjectReference, 3 reason string, 4 message string, " +
      "5 source EventSource, 6 firstTimestamp Time, 7 lastTimestamp Time, 8 count int32, " +
      "9 type string, 10 eventTime MicroTime, 11 series EventSeries, 12 action string, " +
      "13 related ObjectReference, 14 reportingComponent string !, 15 reportingInstance string !",
    EventSeries: "1 count int32, 2 lastObservedTime MicroTime",
    EventSource: "1 component string, 2 host string",
    LimitRange: "1 metadata ObjectMeta, 2 spec LimitRangeSpec",
    LimitRangeItem:
      "1 type string !, 2 max map<Quantity>, 3 min map<Quantity>, 4 default map<Quantity>, " +
      "5 defaultRequest map<Quantity>, 6 maxLimitRequestRatio map<Quantity>",
    LimitRangeSpec: "1 limits LimitRangeItem[]",
    LoadBalancerIngress: "1 ip string, 2 hostname string, 3 ipMode string !, 4 ports PortStatus[]",
    LoadBalancerStatus: "1 ingress LoadBalancerIngress[]",
    ModifyVolumeStatus: "1 targetVolumeAttributesClassName string, 2 status string !",
    Namespace: "1 metadata ObjectMeta, 2 spec NamespaceSpec, 3 status NamespaceStatus",
    NamespaceCondition:
      "1 type string !, 2 status string !, 4 lastTransitionTime Time, 5 reason string, " + "6 message string",
    NamespaceSpec: "1 finalizers string[]",
    NamespaceStatus: "1 phase string, 2 conditions NamespaceCondition[]",
    ObjectReference:
      "1 kind string, 2 namespace string, 3 name string, 4 uid string, 5 apiVersion string, " +
      "6 resourceVersion string, 7 fieldPath string",
    PersistentVolumeClaim:
      "1 metadata ObjectMeta, 2 spec PersistentVolumeClaimSpec, 3 status PersistentVolumeClaimStatus",
    PersistentVolumeClaimCondition:
      "1 type string !, 2 status string !, 3 lastProbeTime Time, 4 lastTransitionTime Time, " +
      "5 reason string, 6 message string",
    PersistentVolumeClaimStatus:
      "1 phase string, 2 accessModes string[], 3 capacity map<Quantity>, " +
      "4 conditions PersistentVolumeClaimCondition[], 5 allocatedResources map<Quantity>, " +
      "7 allocatedResourceStatuses map<string>, 8 currentVolumeAttributesClassName string !, " +
      "9 modifyVolumeStatus ModifyVolumeStatus, 10 healthStatus VolumeHealthStatus",
    PortStatus: "1 port int32 !, 2 protocol string !, 3 error string !",
    ResourceQuota: "1 metadata ObjectMeta, 2 spec ResourceQuotaSpec, 3 status ResourceQuotaStatus",
    ResourceQuotaSpec: "1 hard map<Quantity>, 2 scopes string[], 3 scopeSelector ScopeSelector",
    ResourceQuotaStatus: "1 hard map<Quantity>, 2 used map<Quantity>",
    ScopeSelector: "1 matchExpressions ScopedResourceSelectorRequirement[]",
    ScopedResourceSelectorRequirement: "1 scopeName string !, 2 operator string !, 3 values string[]",
    Secret:
      "1 metadata ObjectMeta, 5 immutable bool !, 2 data map<bytes>, 4 stringData map<string>, " +
      "3 type string",
    Service: "1 metadata ObjectMeta, 2 spec ServiceSpec, 3 status ServiceStatus",
    ServiceAccount:
      "1 metadata ObjectMeta, 2 secrets ObjectReference[], 3 imagePullSecrets LocalObjectReference[], " +
      "4 automountServiceAccountToken bool !",
    ServicePort:
      "1 name string, 2 protocol string, 6 appProtocol string !, 3 port int32 !, " +
      "4 targetPort IntOrString, 5 nodePort int32",
    ServiceSpec:
      "1 ports ServicePort[], 2 selector map<string>, 3 clusterIP string, 18 clusterIPs string[], " +
      "4 type string, 5 externalIPs string[], 7 sessionAffinity string, 8 loadBalancerIP string, " +
      "9 loadBalancerSourceRanges string[], 10 externalName string, 11 externalTrafficPolicy string, " +
      "12 healthCheckNodePort int32, 13 publishNotReadyAddresses bool, " +
      "14 sessionAffinityConfig SessionAffinityConfig, 19 ipFamilies string[], " +
      "17 ipFamilyPolicy string !, 20 allocateLoadBalancerNodePorts bool !, " +
      "21 loadBalancerClass string !, 22 internalTrafficPolicy string !, " +
      "23 trafficDistribution string !",
    ServiceStatus: "1 loadBalancer LoadBalancerStatus, 2 conditions Condition[]",
    SessionAffinityConfig: "1 clientIP ClientIPConfig",
    VolumeHealthStatus: "1 healthConditions VolumeHealthCondition[], 2 lastTransitionTime Time",
  },
};
