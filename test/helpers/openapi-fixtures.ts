/**
 * ResourceInfo fixtures for OpenAPI tests: a namespaced core kind with subresources, a
 * cluster-scoped core kind, an apps kind with status and scale, and a CRD kind.
 */
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1";
import { ALL_VERBS, type ResourceInfo } from "../../src/hub/apiserver/resource-info.js";

export const pods: ResourceInfo = {
  group: "",
  version: "v1",
  resource: "pods",
  singular: "pod",
  kind: "Pod",
  listKind: "PodList",
  namespaced: true,
  shortNames: ["po"],
  categories: ["all"],
  verbs: ALL_VERBS,
  hasStatus: true,
  schemaRef: "io.k8s.api.core.v1.Pod",
  subresources: [
    { name: "status", kind: "Pod", verbs: ["get", "patch", "update"] },
    { name: "log", kind: "Pod", verbs: ["get"] },
    { name: "exec", kind: "PodExecOptions", verbs: ["get", "create"] },
    { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] },
  ],
};

export const namespaces: ResourceInfo = {
  group: "",
  version: "v1",
  resource: "namespaces",
  singular: "namespace",
  kind: "Namespace",
  listKind: "NamespaceList",
  namespaced: false,
  shortNames: ["ns"],
  categories: [],
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  hasStatus: true,
  schemaRef: "io.k8s.api.core.v1.Namespace",
  subresources: [],
};

export const deployments: ResourceInfo = {
  group: "apps",
  version: "v1",
  resource: "deployments",
  singular: "deployment",
  kind: "Deployment",
  listKind: "DeploymentList",
  namespaced: true,
  shortNames: ["deploy"],
  categories: ["all"],
  verbs: ALL_VERBS,
  hasStatus: true,
  schemaRef: "io.k8s.api.apps.v1.Deployment",
  subresources: [
    { name: "status", kind: "Deployment", verbs: ["get", "patch", "update"] },
    { name: "scale", kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] },
  ],
};

export const widgetCrd: CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { kind: "Widget", listKind: "WidgetList", plural: "widgets", singular: "widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            description: "Widget is a test custom resource.",
            properties: {
              spec: {
                type: "object",
                description: "Desired state of the widget.",
                properties: { size: { type: "integer", description: "How many sprockets the widget has." } },
              },
            },
          },
        },
      },
      { name: "v0", served: false, storage: false },
    ],
  },
};

export const widgets: ResourceInfo = {
  group: "example.com",
  version: "v1",
  resource: "widgets",
  singular: "widget",
  kind: "Widget",
  listKind: "WidgetList",
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ALL_VERBS,
  hasStatus: false,
  schemaRef: "com.example.v1.Widget",
  subresources: [],
};
