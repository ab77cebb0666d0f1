/**
 * OpenApiCache: the served OpenAPI v3 documents, built once per registry change, each with a
 * content hash for the `?hash=` URLs of the /openapi/v3 root.
 *
 * Design notes
 * - kubectl caches group-version documents by their root URL (hash included) and re-downloads only
 *   when the hash changes, so the hash must be a pure function of the document bytes: SHA-512 of
 *   the serialised JSON, upper-case hex, as upstream (kube-openapi) does. Documents are built
 *   deterministically, so an unchanged registry yields unchanged hashes across calls and restarts.
 * - `update()` only records the new registry; documents are rebuilt lazily on the next request and
 *   then kept, so a burst of CRD changes costs one rebuild, and an idle hub builds nothing.
 * - Bodies are kept serialised (a Buffer per group-version): serving is a write, not a stringify.
 */
import { createHash } from "node:crypto";
import type { JsonObject } from "../../../api/object.js";
import type { ResourceInfo } from "../resource-info.js";
import { groupVersion } from "../resource-info.js";
import { openApiV3Document, openApiV3Path, openApiV3Root } from "./document.js";

export interface OpenApiEntry {
  readonly groupVersion: string;
  /** upper-case hex SHA-512 of `body` */
  readonly hash: string;
  readonly body: Buffer;
}

export function contentHash(body: string | Buffer): string {
  return createHash("sha512").update(body).digest("hex").toUpperCase();
}

/** Core first, then groups alphabetically: the order upstream lists them in. */
function groupVersions(resources: readonly ResourceInfo[]): string[] {
  const gvs = [...new Set(resources.map(groupVersion))];
  return gvs.sort((a, b) => Number(a.includes("/")) - Number(b.includes("/")) || a.localeCompare(b));
}

export class OpenApiCache {
  private resources: readonly ResourceInfo[] = [];
  private extra: Readonly<Record<string, JsonObject>> = {};
  private entries = new Map<string, OpenApiEntry>();
  private rootBody: Buffer | undefined;
  private generation = 0;

  constructor(
    resources: readonly ResourceInfo[] = [],
    extraSchemas: Readonly<Record<string, JsonObject>> = {},
  ) {
    this.update(resources, extraSchemas);
  }

  /** Replace the served registry (built-ins plus CRDs) and their extra (CRD) schemas. */
  update(resources: readonly ResourceInfo[], extraSchemas: Readonly<Record<string, JsonObject>> = {}): void {
    this.resources = [...resources];
    this.extra = { ...extraSchemas };
    this.entries = new Map();
    this.rootBody = undefined;
    this.generation++;
  }

  /** Increases on every update(); lets callers tell whether their view is current. */
  get version(): number {
    return this.generation;
  }

  groupVersions(): string[] {
    return groupVersions(this.resources);
  }

  /** The document of one group-version ("v1", "apps/v1"), or undefined when none is served. */
  document(gv: string): OpenApiEntry | undefined {
    const cached = this.entries.get(gv);
    if (cached) return cached;
    if (!this.resources.some((r) => groupVersion(r) === gv)) return undefined;
    const body = Buffer.from(JSON.stringify(openApiV3Document(gv, this.resources, this.extra)));
    const entry: OpenApiEntry = { groupVersion: gv, hash: contentHash(body), body };
    this.entries.set(gv, entry);
    return entry;
  }

  /** The document addressed by its root-relative path ("api/v1", "apis/apps/v1"). */
  documentByPath(path: string): OpenApiEntry | undefined {
    const gv = this.groupVersions().find((g) => openApiV3Path(g) === path);
    return gv === undefined ? undefined : this.document(gv);
  }

  /** The serialised /openapi/v3 root. Builds every document, since the root carries their hashes. */
  root(): Buffer {
    if (!this.rootBody) {
      const gvs = this.groupVersions().map((gv) => {
        const entry = this.document(gv)!;
        return { groupVersion: gv, hash: entry.hash };
      });
      this.rootBody = Buffer.from(JSON.stringify(openApiV3Root(gvs)));
    }
    return this.rootBody;
  }
}
