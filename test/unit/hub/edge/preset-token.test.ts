/**
 * Preset join tokens: the --join-token-file parser (what is accepted, what each mistake says)
 * and the start-up reconcile against a recording fake client (create once, then nothing;
 * new secret → update; new id → the old preset deleted; hand-made tokens left alone).
 */
import { describe, expect, it } from "vitest";
import { refs } from "../../../../src/client/client.js";
import {
  bootstrapSecretName,
  bootstrapTokenSecret,
  checkBootstrapToken,
  readBootstrapSecret,
} from "../../../../src/hub/edge/bootstrap-token.js";
import {
  ensurePresetToken,
  PRESET_LABEL,
  type PresetJoinToken,
  parsePresetTokenFile,
} from "../../../../src/hub/edge/preset-token.js";
import { silentLogger } from "../../../../src/lib/logger.js";
import { FakeClient } from "../../../helpers/fake-client.js";

const FILE = "/etc/edgekube/join-token";
const NOW = new Date("2026-06-01T00:00:00Z");
const FORMAT = 'write one bootstrap token "<id>.<secret>"';

describe("parsePresetTokenFile", () => {
  it("reads a token with comments, blank lines, CRLF and a trailing newline", () => {
    const text = "\uFEFF# provisioned 2026-05\r\n\r\n  abcdef.0123456789abcdef  \r\n";
    expect(parsePresetTokenFile(text, FILE)).toEqual({
      id: "abcdef",
      secret: "0123456789abcdef",
      source: FILE,
    });
  });

  it("reads an optional expiration", () => {
    const p = parsePresetTokenFile('abcdef.0123456789abcdef\nexpiration: "2027-01-01T00:00:00Z"\n', FILE);
    expect(p?.expiration?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("returns null for a file without a token (the preset is revoked)", () => {
    expect(parsePresetTokenFile("", FILE)).toBeNull();
    expect(parsePresetTokenFile("# revoked\n\n", FILE)).toBeNull();
  });

  it.each([
    ["abcdef0123456789abcdef", "line 1 is not a bootstrap token"],
    ["ABCDEF.0123456789ABCDEF", "line 1 is not a bootstrap token"],
    ["abcdef.0123456789abcde", "line 1 is not a bootstrap token"],
    ["abcdef.0123456789abcdef\nabcdeg.0123456789abcdef", "line 2 is a second token"],
    [`K10${"0f".repeat(32)}::abcdef.0123456789abcdef`, 'line 1 is a full "K10…::" token'],
    ["abcdef.0123456789abcdef\nexpiration: tomorrow", 'expiration "tomorrow" is not an RFC3339 time'],
    ["expiration: 2027-01-01T00:00:00Z", 'it has an "expiration" but no token line'],
  ])("refuses %j naming the file, the problem and the format", (text, problem) => {
    let msg = "";
    try {
      parsePresetTokenFile(text, FILE);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`join token file ${FILE}: `);
    expect(msg).toContain(problem);
    expect(msg).toContain(FORMAT);
  });

  it("never echoes a malformed line (it may be a mistyped secret)", () => {
    expect(() => parsePresetTokenFile("abcdef.SECRETSECRET", FILE)).toThrow(/^(?!.*SECRETSECRET)/s);
  });
});

function preset(id: string, secret: string, extra: Partial<PresetJoinToken> = {}): PresetJoinToken {
  return { id, secret, source: FILE, ...extra };
}

describe("ensurePresetToken", () => {
  const log = silentLogger();
  const name = (id: string) => bootstrapSecretName(id);

  it("creates the labelled bootstrap Secret once; a second run changes nothing", async () => {
    const c = new FakeClient();
    expect(await ensurePresetToken(c, preset("abcdef", "0123456789abcdef"), log, NOW)).toBe("created");
    const s = c.peek(refs.secrets, "kube-system", name("abcdef"));
    expect(s?.metadata.labels).toEqual({ [PRESET_LABEL]: "true" });
    expect(readBootstrapSecret(s!)).toEqual({
      id: "abcdef",
      secret: "0123456789abcdef",
      description: `preset from ${FILE}`,
    });
    expect(checkBootstrapToken(s, "0123456789abcdef", NOW)).toBe("ok");
    expect(await ensurePresetToken(c, preset("abcdef", "0123456789abcdef"), log, NOW)).toBe("unchanged");
    expect(c.verbs()).toEqual([`create secrets kube-system/${name("abcdef")}`]);
  });

  it("same id, new secret or expiry: updates in place", async () => {
    const c = new FakeClient();
    await ensurePresetToken(c, preset("abcdef", "0123456789abcdef"), log, NOW);
    expect(await ensurePresetToken(c, preset("abcdef", "zzzzzzzzzzzzzzzz"), log, NOW)).toBe("updated");
    const s = c.peek(refs.secrets, "kube-system", name("abcdef"));
    expect(checkBootstrapToken(s, "0123456789abcdef", NOW)).toBe("invalid");
    expect(checkBootstrapToken(s, "zzzzzzzzzzzzzzzz", NOW)).toBe("ok");
    const exp = new Date("2026-07-01T00:00:00Z");
    await ensurePresetToken(c, preset("abcdef", "zzzzzzzzzzzzzzzz", { expiration: exp }), log, NOW);
    const s2 = c.peek(refs.secrets, "kube-system", name("abcdef"));
    expect(readBootstrapSecret(s2!)?.expiration).toEqual(exp);
    expect(checkBootstrapToken(s2, "zzzzzzzzzzzzzzzz", new Date("2026-08-01T00:00:00Z"))).toBe("expired");
  });

  it("another id: the previous preset is deleted, tokens from 'token create' stay", async () => {
    const c = new FakeClient();
    c.seed(refs.secrets, bootstrapTokenSecret({ id: "manual", secret: "mmmmmmmmmmmmmmmm" }));
    await ensurePresetToken(c, preset("abcdef", "0123456789abcdef"), log, NOW);
    await ensurePresetToken(c, preset("ghijkl", "0123456789abcdef"), log, NOW);
    const ids = c.objects(refs.secrets, "kube-system").map((s) => readBootstrapSecret(s)?.id);
    expect(ids.sort()).toEqual(["ghijkl", "manual"]);
    // an emptied file: the preset goes, the hand-made token stays
    expect(await ensurePresetToken(c, null, log, NOW)).toBe("none");
    expect(c.objects(refs.secrets, "kube-system").map((s) => readBootstrapSecret(s)?.id)).toEqual(["manual"]);
  });

  it("an expired preset is not created and removes the earlier one (the hub still starts)", async () => {
    const c = new FakeClient();
    await ensurePresetToken(c, preset("abcdef", "0123456789abcdef"), log, NOW);
    const past = preset("abcdef", "0123456789abcdef", { expiration: new Date("2026-05-01T00:00:00Z") });
    expect(await ensurePresetToken(c, past, log, NOW)).toBe("expired");
    expect(c.objects(refs.secrets, "kube-system")).toEqual([]);
  });

  it("takes over a hand-made token with the preset's id (and labels it)", async () => {
    const c = new FakeClient();
    c.seed(refs.secrets, bootstrapTokenSecret({ id: "abcdef", secret: "mmmmmmmmmmmmmmmm" }));
    expect(await ensurePresetToken(c, preset("abcdef", "0123456789abcdef"), log, NOW)).toBe("updated");
    const s = c.peek(refs.secrets, "kube-system", name("abcdef"));
    expect(s?.metadata.labels?.[PRESET_LABEL]).toBe("true");
    expect(checkBootstrapToken(s, "0123456789abcdef", NOW)).toBe("ok");
  });
});
