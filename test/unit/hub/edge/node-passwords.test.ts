/**
 * The pure parts of per-node passwords (node-passwords.ts): the Secret a join stores, and how a
 * presented password is judged against it.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  MAX_PASSWORD_NODE_NAME,
  newNodePassword,
  nodeOfPasswordSecret,
  nodePasswordSecret,
  nodePasswordSecretName,
  passwordMatches,
  storedHash,
} from "../../../../src/hub/edge/node-passwords.js";

describe("node passwords", () => {
  it("are 256 random bits, base64url, different every time", () => {
    const a = newNodePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(newNodePassword()).not.toBe(a);
  });

  it("are stored as the sha256 of the password under <node>.node-password.edgekube", () => {
    const s = nodePasswordSecret("pi-1", "pw");
    expect(s.metadata).toMatchObject({ name: "pi-1.node-password.edgekube", namespace: "kube-system" });
    expect(storedHash(s)).toBe(createHash("sha256").update("pw").digest("hex"));
    expect(JSON.stringify(s)).not.toContain('"pw"');
    expect(nodeOfPasswordSecret(nodePasswordSecretName("a.b-c"))).toBe("a.b-c");
    expect(nodeOfPasswordSecret("bootstrap-token-abcdef")).toBeUndefined();
    expect(nodePasswordSecretName("x".repeat(MAX_PASSWORD_NODE_NAME))).toHaveLength(253);
  });

  it("match only the stored password, and only on a well-formed node-password Secret", () => {
    const s = nodePasswordSecret("pi-1", "right");
    expect(passwordMatches(s, Buffer.from("right"))).toBe(true);
    expect(passwordMatches(s, Buffer.from("wrong"))).toBe(false);
    expect(passwordMatches(s, Buffer.alloc(0))).toBe(false);
    expect(passwordMatches(s, undefined)).toBe(false);
    expect(passwordMatches(undefined, Buffer.from("right"))).toBe(false);
    expect(passwordMatches({ ...s, type: "Opaque" } as typeof s, Buffer.from("right"))).toBe(false);
    const garbled = { ...s, data: { hash: Buffer.from("not hex").toString("base64") } };
    expect(passwordMatches(garbled, Buffer.from("right"))).toBe(false);
  });
});
