/**
 * What `edge-agent join` adds to a hub's refusal (hub-client.ts refusalHint), including the answer
 * of a hub from before per-node passwords to a join that asks for one.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../src/api/errors.js";
import { refusalHint } from "../../../src/edge-agent/join/hub-client.js";

describe("join refusal hints", () => {
  it("tells a password join that an older hub wants a CSR", () => {
    // what such a hub answered: its validation required the csr field
    const old = ApiError.invalid("JoinRequest", "pi-1", [
      { reason: "FieldValueRequired", field: "csr", message: "Required value" },
    ]).message;
    expect(old).toBe('JoinRequest "pi-1" is invalid: csr: Required value');
    expect(refusalHint(422, old, "password")).toBe(
      "; this hub predates per-node passwords: join with --client-cert, or upgrade the hub",
    );
    // a certificate join that got a 422 about its CSR has another problem: no such hint
    expect(refusalHint(422, old, "certificate")).toBe("");
    expect(refusalHint(422, 'JoinRequest "Pi_1" is invalid: nodeName: Invalid value', "password")).toBe("");
  });

  it("says what to do about a token or a hub without joins", () => {
    expect(refusalHint(401, "the join token is not valid", "password")).toContain("edge-hub token create");
    expect(refusalHint(404, "not found", "password")).toBe("; the hub does not offer joins: upgrade the hub");
    expect(refusalHint(500, "boom", "password")).toBe("");
  });
});
