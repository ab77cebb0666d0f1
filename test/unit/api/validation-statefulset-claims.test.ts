/** A StatefulSet's containers may mount its volumeClaimTemplates; other unknown mounts stay invalid. */
import { describe, expect, it } from "vitest";
import { setDefaults } from "../../../src/api/defaults/index.js";
import type { KubeObject } from "../../../src/api/object.js";
import { validateCreate } from "../../../src/api/validation/index.js";

function sts(mounts: string[]): KubeObject {
  const o: KubeObject = {
    metadata: { name: "web", namespace: "default" },
    spec: {
      serviceName: "web",
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "c",
              image: "busybox:1.36",
              volumeMounts: mounts.map((m) => ({ name: m, mountPath: `/${m}` })),
            },
          ],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"] } }],
    },
  };
  setDefaults("apps", "StatefulSet", o);
  return o;
}

describe("StatefulSet volumeClaimTemplates", () => {
  it("accepts mounts of claim templates and still refuses unknown volumes", () => {
    expect(validateCreate("apps", "StatefulSet", sts(["data"]))).toEqual([]);
    expect(
      validateCreate("apps", "StatefulSet", sts(["data", "nope"])).map((c) => `${c.field}: ${c.message}`),
    ).toEqual(['spec.template.spec.containers[0].volumeMounts[1].name: Not found: "nope"']);
  });
});
