import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../../src/api/errors.js";
import {
  buildTable,
  defaultPrinter,
  hasPrinter,
  parseIncludeObject,
  printerFor,
} from "../../../../../src/hub/apiserver/printers/index.js";
import { NOW, obj } from "./fixtures.js";

const cm = obj(
  "v1",
  "ConfigMap",
  "cfg",
  { data: { a: "1" } },
  { labels: { app: "web" }, resourceVersion: "41" },
);
const done = obj("v1", "Pod", "job-x", {
  spec: { containers: [{ name: "c" }] },
  status: {
    phase: "Succeeded",
    containerStatuses: [
      { name: "c", restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
    ],
  },
});

describe("buildTable", () => {
  it("wraps metadata in PartialObjectMetadata by default (includeObject=Metadata)", () => {
    const t = buildTable(printerFor("", "configmaps"), [cm], {
      includeObject: "Metadata",
      resourceVersion: "42",
      now: NOW,
    });
    expect(t).toEqual({
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      metadata: { resourceVersion: "42" },
      columnDefinitions: printerFor("", "configmaps").columns,
      rows: [
        {
          cells: ["cfg", 1, "3d"],
          object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: cm.metadata },
        },
      ],
    });
    // The JSON kubectl receives: priority and format always present, as Go serialises them.
    const json = JSON.parse(JSON.stringify(t)) as { columnDefinitions: unknown[] };
    expect(json.columnDefinitions[1]).toEqual({
      name: "Data",
      type: "string",
      format: "",
      description: expect.stringContaining("Data contains the configuration data"),
      priority: 0,
    });
  });

  it("embeds the whole object for Object and null for None", () => {
    const full = buildTable(printerFor("", "configmaps"), [cm], {
      includeObject: "Object",
      resourceVersion: "42",
      now: NOW,
    });
    expect((full.rows as { object: unknown }[])[0]?.object).toBe(cm);
    const none = buildTable(printerFor("", "configmaps"), [cm], {
      includeObject: "None",
      resourceVersion: "42",
      now: NOW,
    });
    expect((none.rows as { object: unknown }[])[0]?.object).toBeNull();
  });

  it("carries paging metadata and drops headers on request", () => {
    const t = buildTable(defaultPrinter, [cm], {
      includeObject: "None",
      resourceVersion: "7",
      continueToken: "eyJ2IjoxfQ",
      remainingItemCount: 12,
      now: NOW,
      noHeaders: true,
    });
    expect(t.metadata).toEqual({ resourceVersion: "7", continue: "eyJ2IjoxfQ", remainingItemCount: 12 });
    expect(t).not.toHaveProperty("columnDefinitions");
  });

  it("prints an empty list as no rows and omits an empty resourceVersion", () => {
    const t = buildTable(printerFor("apps", "deployments"), [], {
      includeObject: "Metadata",
      resourceVersion: "",
      now: NOW,
    });
    expect(t.rows).toEqual([]);
    expect(t.metadata).toEqual({});
  });

  it("adds the Completed row condition for finished pods", () => {
    const t = buildTable(printerFor("", "pods"), [done], {
      includeObject: "None",
      resourceVersion: "1",
      now: NOW,
    });
    const row = (t.rows as { cells: unknown[]; conditions?: unknown }[])[0];
    expect(row?.cells.slice(0, 3)).toEqual(["job-x", "0/1", "Completed"]);
    expect(row?.conditions).toEqual([
      {
        type: "Completed",
        status: "True",
        reason: "Succeeded",
        message: "The pod has completed successfully.",
      },
    ]);
  });
});

describe("parseIncludeObject", () => {
  it("defaults to Metadata and rejects unknown values with a 400", () => {
    expect(parseIncludeObject(undefined)).toBe("Metadata");
    expect(parseIncludeObject("")).toBe("Metadata");
    expect(parseIncludeObject("Object")).toBe("Object");
    expect(parseIncludeObject("None")).toBe("None");
    expect(() => parseIncludeObject("All")).toThrow(ApiError);
    try {
      parseIncludeObject("All");
    } catch (e) {
      expect((e as ApiError).code).toBe(400);
      expect((e as ApiError).message).toContain('unrecognized includeObject value: "All"');
    }
  });
});

describe("printerFor", () => {
  it("serves every built-in resource of the brief with its own printer", () => {
    const own: [string, string][] = [
      ["", "pods"],
      ["", "namespaces"],
      ["", "services"],
      ["", "endpoints"],
      ["", "nodes"],
      ["", "configmaps"],
      ["", "secrets"],
      ["", "events"],
      ["", "serviceaccounts"],
      ["", "persistentvolumes"],
      ["", "persistentvolumeclaims"],
      ["", "resourcequotas"],
      ["apps", "deployments"],
      ["apps", "replicasets"],
      ["apps", "daemonsets"],
      ["apps", "statefulsets"],
      ["batch", "jobs"],
      ["batch", "cronjobs"],
      ["discovery.k8s.io", "endpointslices"],
      ["events.k8s.io", "events"],
      ["storage.k8s.io", "storageclasses"],
      ["coordination.k8s.io", "leases"],
      ["networking.k8s.io", "ingresses"],
      ["rbac.authorization.k8s.io", "rolebindings"],
      ["rbac.authorization.k8s.io", "clusterrolebindings"],
      ["policy", "poddisruptionbudgets"],
    ];
    for (const [g, r] of own) expect(hasPrinter(g, r), `${g}/${r}`).toBe(true);
    // Upstream prints these with the default table.
    for (const [g, r] of [
      ["", "limitranges"],
      ["rbac.authorization.k8s.io", "roles"],
      ["rbac.authorization.k8s.io", "clusterroles"],
      ["apiextensions.k8s.io", "customresourcedefinitions"],
    ] as const) {
      expect(printerFor(g, r)).toBe(defaultPrinter);
    }
  });

  it("every printer returns exactly one cell per column for a sparse object", () => {
    for (const [key, printer] of [
      ["pods", printerFor("", "pods")],
      ["services", printerFor("", "services")],
      ["nodes", printerFor("", "nodes")],
      ["events", printerFor("", "events")],
      ["pv", printerFor("", "persistentvolumes")],
      ["pvc", printerFor("", "persistentvolumeclaims")],
      ["deploy", printerFor("apps", "deployments")],
      ["ds", printerFor("apps", "daemonsets")],
      ["jobs", printerFor("batch", "jobs")],
      ["cronjobs", printerFor("batch", "cronjobs")],
      ["eps", printerFor("discovery.k8s.io", "endpointslices")],
      ["evv1", printerFor("events.k8s.io", "events")],
      ["ing", printerFor("networking.k8s.io", "ingresses")],
      ["rq", printerFor("", "resourcequotas")],
    ] as const) {
      const rows = printer.rows({ metadata: { name: "x" } }, NOW);
      expect(rows, key).toHaveLength(1);
      expect(rows[0], key).toHaveLength(printer.columns.length);
    }
  });

  it("prints the CRD list (default table) with RFC 3339 creation times", () => {
    const crd = obj(
      "apiextensions.k8s.io/v1",
      "CustomResourceDefinition",
      "widgets.example.com",
      {},
      {
        creationTimestamp: "2025-01-02T03:04:05Z",
      },
    );
    expect(printerFor("apiextensions.k8s.io", "customresourcedefinitions").rows(crd, NOW)).toEqual([
      ["widgets.example.com", "2025-01-02T03:04:05Z"],
    ]);
    expect(defaultPrinter.columns.map((c) => [c.name, c.type, c.format])).toEqual([
      ["Name", "string", "name"],
      ["Created At", "date", ""],
    ]);
  });
});
