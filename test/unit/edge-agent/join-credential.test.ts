/**
 * `edge-agent join` credentials: the K10 token pins the CA and stays strict; a short
 * <id>.<secret> needs --ca-hash or --insecure-trust-first-ca, and alone is refused naming both.
 */
import { describe, expect, it } from "vitest";
import { NO_CA_PIN_HELP, resolveJoinCredential } from "../../../src/edge-agent/join/credential.js";
import { parseCaHash } from "../../../src/lib/join-token.js";

const HEX = "ab".repeat(32);
const OTHER = "cd".repeat(32);
const SHORT = "abcdef.0123456789abcdef";
const FULL = `K10${HEX}::${SHORT}`;

describe("resolveJoinCredential", () => {
  it("K10 token: the pin comes from the token; a matching --ca-hash is allowed", () => {
    const want = { caHash: HEX, id: "abcdef", secret: "0123456789abcdef" };
    expect(resolveJoinCredential(FULL, {})).toEqual(want);
    expect(resolveJoinCredential(FULL, { caHash: `sha256:${HEX.toUpperCase()}` })).toEqual(want);
  });

  it("K10 token: a different --ca-hash or --insecure-trust-first-ca is refused", () => {
    expect(() => resolveJoinCredential(FULL, { caHash: `sha256:${OTHER}` })).toThrow(
      `--ca-hash sha256:${OTHER} disagrees with the CA pinned in the K10 token (sha256:${HEX})`,
    );
    expect(() => resolveJoinCredential(FULL, { trustFirstCA: true })).toThrow(
      /--insecure-trust-first-ca is only for a short <id>\.<secret> token: this K10 token already pins/,
    );
  });

  it("short token + --ca-hash: pinned", () => {
    expect(resolveJoinCredential(SHORT, { caHash: `sha256:${HEX}` })).toEqual({
      caHash: HEX,
      id: "abcdef",
      secret: "0123456789abcdef",
    });
  });

  it("short token + --insecure-trust-first-ca: no pin (trust on first use)", () => {
    const c = resolveJoinCredential(SHORT, { trustFirstCA: true });
    expect(c).toEqual({ id: "abcdef", secret: "0123456789abcdef" });
    expect(c.caHash).toBeUndefined();
  });

  it("short token alone is refused, explaining both options", () => {
    expect(() => resolveJoinCredential(SHORT, {})).toThrow(NO_CA_PIN_HELP);
    expect(NO_CA_PIN_HELP).toContain("--ca-hash sha256:<hex>");
    expect(NO_CA_PIN_HELP).toContain("--insecure-trust-first-ca");
    expect(NO_CA_PIN_HELP).toContain("edge-hub token ca-hash");
  });

  it("both options at once, bad hashes and malformed tokens are refused", () => {
    expect(() => resolveJoinCredential(SHORT, { caHash: `sha256:${HEX}`, trustFirstCA: true })).toThrow(
      "exclude each other",
    );
    expect(() => resolveJoinCredential(SHORT, { caHash: HEX })).toThrow(
      `--ca-hash "${HEX}" is not "sha256:<64 hex digits>"`,
    );
    expect(() => resolveJoinCredential("abcdef-0123456789abcdef", { trustFirstCA: true })).toThrow(
      /join token is malformed: give the full K10.*or a short <id>\.<secret>/,
    );
    expect(() => resolveJoinCredential("K10xyz", {})).toThrow(/join token is malformed \(expected K10/);
  });

  it("parseCaHash accepts sha256:<hex> in either case and returns lower-case hex", () => {
    expect(parseCaHash(` sha256:${HEX.toUpperCase()} `)).toBe(HEX);
    expect(() => parseCaHash(`sha1:${HEX}`)).toThrow("edge-hub token ca-hash");
  });
});
