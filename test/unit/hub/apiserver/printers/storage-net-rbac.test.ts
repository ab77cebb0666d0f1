import { describe, expect, it } from "vitest";
import { cells, headers, NOW, obj } from "./fixtures.js";

describe("persistent volumes and claims", () => {
  it("prints a bound PV with abbreviated access modes in upstream order", () => {
    expect(headers("", "persistentvolumes")).toEqual([
      "Name",
      "Capacity",
      "Access Modes",
      "Reclaim Policy",
      "Status",
      "Claim",
      "StorageClass",
      "VolumeAttributesClass",
      "Reason",
      "Age",
      "VolumeMode*",
    ]);
    const pv = obj(
      "v1",
      "PersistentVolume",
      "pvc-1a2b",
      {
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOncePod", "ReadWriteOnce", "ReadOnlyMany", "ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Delete",
          claimRef: { namespace: "default", name: "data" },
          storageClassName: "local-path",
          volumeMode: "Filesystem",
        },
        status: { phase: "Bound" },
      },
      { namespace: undefined },
    );
    expect(cells("", "persistentvolumes", pv)).toEqual([
      "pvc-1a2b",
      "1Gi",
      "RWO,ROX,RWOP",
      "Delete",
      "Bound",
      "default/data",
      "local-path",
      "<unset>",
      "",
      "3d",
      "Filesystem",
    ]);
  });

  it("prints Terminating and the beta storage-class annotation first", () => {
    const pv = obj(
      "v1",
      "PersistentVolume",
      "old",
      {
        spec: { storageClassName: "new-class", accessModes: ["ReadWriteMany"] },
        status: { phase: "Released", reason: "Gone" },
      },
      {
        deletionTimestamp: NOW.toISOString(),
        annotations: { "volume.beta.kubernetes.io/storage-class": "beta-class" },
      },
    );
    expect(cells("", "persistentvolumes", pv)).toEqual([
      "old",
      "0",
      "RWX",
      "",
      "Terminating",
      "",
      "beta-class",
      "<unset>",
      "Gone",
      "3d",
      "<unset>",
    ]);
  });

  it("prints a PVC's capacity and access modes only once bound", () => {
    expect(headers("", "persistentvolumeclaims")).toEqual([
      "Name",
      "Status",
      "Volume",
      "Capacity",
      "Access Modes",
      "StorageClass",
      "VolumeAttributesClass",
      "Age",
      "VolumeMode*",
    ]);
    const spec = {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "2Gi" } },
      storageClassName: "local-path",
      volumeMode: "Filesystem",
    };
    const pending = obj("v1", "PersistentVolumeClaim", "data", { spec, status: { phase: "Pending" } });
    expect(cells("", "persistentvolumeclaims", pending)).toEqual([
      "data",
      "Pending",
      "",
      "",
      "",
      "local-path",
      "<unset>",
      "3d",
      "Filesystem",
    ]);
    const bound = obj("v1", "PersistentVolumeClaim", "data", {
      spec: { ...spec, volumeName: "pvc-1a2b", volumeAttributesClassName: "fast" },
      status: { phase: "Bound", capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce"] },
    });
    expect(cells("", "persistentvolumeclaims", bound)).toEqual([
      "data",
      "Bound",
      "pvc-1a2b",
      "2Gi",
      "RWO",
      "local-path",
      "fast",
      "3d",
      "Filesystem",
    ]);
  });

  it("marks the default storage class and defaults policy, binding mode and expansion", () => {
    expect(headers("storage.k8s.io", "storageclasses")).toEqual([
      "Name",
      "Provisioner",
      "ReclaimPolicy",
      "VolumeBindingMode",
      "AllowVolumeExpansion",
      "Age",
    ]);
    const sc = obj(
      "storage.k8s.io/v1",
      "StorageClass",
      "local-path",
      {
        provisioner: "edgekube.io/local-path",
        reclaimPolicy: "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
      },
      { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    );
    expect(cells("storage.k8s.io", "storageclasses", sc)).toEqual([
      "local-path (default)",
      "edgekube.io/local-path",
      "Delete",
      "WaitForFirstConsumer",
      false,
      "3d",
    ]);
    const plain = obj("storage.k8s.io/v1", "StorageClass", "slow", {
      provisioner: "x",
      allowVolumeExpansion: true,
    });
    expect(cells("storage.k8s.io", "storageclasses", plain)).toEqual([
      "slow",
      "x",
      "Delete",
      "Immediate",
      true,
      "3d",
    ]);
  });
});

describe("networking and discovery", () => {
  it("prints an ingress", () => {
    expect(headers("networking.k8s.io", "ingresses")).toEqual([
      "Name",
      "Class",
      "Hosts",
      "Address",
      "Ports",
      "Age",
    ]);
    const ing = obj("networking.k8s.io/v1", "Ingress", "web", {
      spec: {
        ingressClassName: "traefik",
        rules: [
          { host: "a.example" },
          {},
          { host: "b.example" },
          { host: "c.example" },
          { host: "d.example" },
        ],
        tls: [{ hosts: ["a.example"] }],
      },
      status: { loadBalancer: { ingress: [{ ip: "198.51.100.3" }, { ip: "198.51.100.2" }] } },
    });
    expect(cells("networking.k8s.io", "ingresses", ing)).toEqual([
      "web",
      "traefik",
      "a.example,b.example,c.example + 2 more...",
      "198.51.100.2,198.51.100.3",
      "80, 443",
      "3d",
    ]);
    const bare = obj("networking.k8s.io/v1", "Ingress", "bare", { spec: {} });
    expect(cells("networking.k8s.io", "ingresses", bare)).toEqual(["bare", "<none>", "*", "", "80", "3d"]);
  });

  it("prints an endpointslice", () => {
    expect(headers("discovery.k8s.io", "endpointslices")).toEqual([
      "Name",
      "AddressType",
      "Ports",
      "Endpoints",
      "Age",
    ]);
    const eps = obj("discovery.k8s.io/v1", "EndpointSlice", "web-abc", {
      addressType: "IPv4",
      ports: [{ name: "http", port: 80 }, { name: "named" }, {}],
      endpoints: [
        { addresses: ["10.42.1.2"] },
        { addresses: ["10.42.1.3", "10.42.1.4"] },
        { addresses: ["10.42.2.9"] },
      ],
    });
    expect(cells("discovery.k8s.io", "endpointslices", eps)).toEqual([
      "web-abc",
      "IPv4",
      "80,named,*",
      "10.42.1.2,10.42.1.3,10.42.1.4 + 1 more...",
      "3d",
    ]);
    const empty = obj("discovery.k8s.io/v1", "EndpointSlice", "e", { addressType: "IPv4", endpoints: [] });
    expect(cells("discovery.k8s.io", "endpointslices", empty).slice(2, 4)).toEqual(["<unset>", "<unset>"]);
  });
});

describe("rbac, policy, coordination", () => {
  it("prints bindings with role and wide subjects", () => {
    expect(headers("rbac.authorization.k8s.io", "rolebindings")).toEqual([
      "Name",
      "Role",
      "Age",
      "Users*",
      "Groups*",
      "ServiceAccounts*",
    ]);
    const rb = obj("rbac.authorization.k8s.io/v1", "RoleBinding", "view", {
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [
        { kind: "User", name: "alice" },
        { kind: "User", name: "bob" },
        { kind: "Group", name: "ops" },
        { kind: "ServiceAccount", name: "ci", namespace: "build" },
      ],
    });
    expect(cells("rbac.authorization.k8s.io", "rolebindings", rb)).toEqual([
      "view",
      "ClusterRole/view",
      "3d",
      "alice, bob",
      "ops",
      "build/ci",
    ]);
    const crb = obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "admins", {
      roleRef: { kind: "ClusterRole", name: "cluster-admin" },
    });
    expect(cells("rbac.authorization.k8s.io", "clusterrolebindings", crb)).toEqual([
      "admins",
      "ClusterRole/cluster-admin",
      "3d",
      "",
      "",
      "",
    ]);
  });

  it("prints roles and cluster roles with the default table", () => {
    expect(headers("rbac.authorization.k8s.io", "roles")).toEqual(["Name", "Created At"]);
    expect(headers("rbac.authorization.k8s.io", "clusterroles")).toEqual(["Name", "Created At"]);
  });

  it("prints a PDB with N/A for the unset bound", () => {
    expect(headers("policy", "poddisruptionbudgets")).toEqual([
      "Name",
      "Min Available",
      "Max Unavailable",
      "Allowed Disruptions",
      "Age",
    ]);
    const pdb = obj("policy/v1", "PodDisruptionBudget", "web", {
      spec: { minAvailable: "50%" },
      status: { disruptionsAllowed: 1 },
    });
    expect(cells("policy", "poddisruptionbudgets", pdb)).toEqual(["web", "50%", "N/A", 1, "3d"]);
    const pdb2 = obj("policy/v1", "PodDisruptionBudget", "db", { spec: { maxUnavailable: 1 } });
    expect(cells("policy", "poddisruptionbudgets", pdb2)).toEqual(["db", "N/A", "1", 0, "3d"]);
  });

  it("prints a lease holder", () => {
    const lease = obj("coordination.k8s.io/v1", "Lease", "pi-1", {
      spec: { holderIdentity: "pi-1", leaseDurationSeconds: 40 },
    });
    expect(cells("coordination.k8s.io", "leases", lease)).toEqual(["pi-1", "pi-1", "3d"]);
    expect(
      cells("coordination.k8s.io", "leases", obj("coordination.k8s.io/v1", "Lease", "free", { spec: {} })),
    ).toEqual(["free", "", "3d"]);
  });
});
