import { describe, expect, it } from "vitest";
import { ApiError } from "../../../../src/api/errors.js";
import { shutdownError } from "../../../../src/hub/apiserver/server.js";
import { StoreClosedError } from "../../../../src/hub/store/backend.js";

describe("requests cut by a hub shutdown", () => {
  it("become 503 ServiceUnavailable with the store's reason", () => {
    const status = shutdownError(new StoreClosedError())?.toStatus();
    expect(status).toMatchObject({ code: 503, reason: "ServiceUnavailable", status: "Failure" });
    expect(status?.message).toMatch(/hub shutting down/);
  });

  it("leave every other failure as it was", () => {
    expect(shutdownError(new Error("boom"))).toBeUndefined();
    expect(shutdownError(ApiError.badRequest("x"))).toBeUndefined();
  });
});
