/**
 * Preset join token: `edge-hub server --join-token-file FILE` makes the bootstrap token written in
 * FILE valid on this hub, so devices can be provisioned with `<id>.<secret>` before the hub exists
 * (k3s' preset `token:`; on the Pi image, `join_token` in /boot/firmware/edgekube.yaml).
 *
 * FILE holds one token in kubeadm's bootstrap format, optionally an expiry:
 *     # comments and blank lines are ignored
 *     abcdef.0123456789abcdef
 *     expiration: 2027-01-01T00:00:00Z      (optional; without it the token never expires)
 *
 * Design notes
 * - Reconciled on every start, not created once: the Secret kube-system/bootstrap-token-<id> is
 *   made to equal what FILE says (create, or update when secret, expiry or description differ;
 *   nothing when equal), so restarts are idempotent and editing FILE rotates the secret.
 * - The Secret carries the label edgekube.io/preset-join-token=true. That is how the next start
 *   finds the previous preset token when FILE now names another id, and deletes it: a replaced
 *   preset never stays valid. Tokens from `edge-hub token create` carry no label and are left alone.
 * - A FILE without a token line (emptied) means "no preset token": the labelled ones are deleted,
 *   which is how an operator revokes it without editing the unit. So does an expiration that has
 *   passed (logged as a warning, not an error): the hub must still start on the day after. A malformed FILE is an error
 *   that stops the hub: silently running without the token the fleet was provisioned with would
 *   only show up as devices that never join.
 * - Parsing is pure (src/cmd reads FILE and passes the result in); the reconcile takes a client.
 */
import type { KubeObject } from "../../api/object.js";
import { metaTime } from "../../api/time.js";
import { type Client, refs } from "../../client/client.js";
import type { Logger } from "../../lib/logger.js";
import {
  BOOTSTRAP_NAMESPACE,
  bootstrapSecretName,
  bootstrapTokenSecret,
  readBootstrapSecret,
} from "./bootstrap-token.js";

export const PRESET_LABEL = "edgekube.io/preset-join-token";

export interface PresetJoinToken {
  id: string;
  secret: string;
  expiration?: Date;
  /** the file it came from, for the description and for log lines */
  source: string;
}

export class PresetTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PresetTokenError";
  }
}

const FORMAT_HELP =
  'write one bootstrap token "<id>.<secret>" (6 and 16 characters of a-z and 0-9, e.g. abcdef.0123456789abcdef), ' +
  'optionally followed by a line "expiration: <RFC3339 time>"';

/** The token FILE describes, `null` when it holds no token (empty or only comments). */
export function parsePresetTokenFile(text: string, file: string): PresetJoinToken | null {
  const bad = (what: string) => new PresetTokenError(`join token file ${file}: ${what}: ${FORMAT_HELP}`);
  let token: { id: string; secret: string } | undefined;
  let expiration: Date | undefined;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `line ${i + 1}`;
    const exp = /^expiration:\s*"?([^"]*)"?$/.exec(line);
    if (exp) {
      if (expiration) throw bad(`${where} repeats "expiration"`);
      const value = exp[1]?.trim() ?? "";
      const d = new Date(value);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(d.getTime())) {
        throw bad(`${where}: expiration "${value}" is not an RFC3339 time such as 2027-01-01T00:00:00Z`);
      }
      expiration = d;
      continue;
    }
    if (token) throw bad(`${where} is a second token; the file holds exactly one`);
    if (/^K10[0-9a-f]*::/.test(line)) {
      throw bad(
        `${where} is a full "K10…::" token; the preset is only its "<id>.<secret>" part (the CA hash comes from the hub)`,
      );
    }
    const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(line);
    // never echo the line: it may be a mistyped secret
    if (!m) throw bad(`${where} is not a bootstrap token`);
    token = { id: m[1]!, secret: m[2]! };
  }
  if (!token) {
    if (expiration) throw bad('it has an "expiration" but no token line');
    return null;
  }
  return { ...token, ...(expiration ? { expiration } : {}), source: file };
}

export function presetDescription(source: string): string {
  return `preset from ${source}`;
}

/** The Secret the preset should be, labelled so a later start can find it. */
export function presetTokenSecret(p: PresetJoinToken): KubeObject {
  const s = bootstrapTokenSecret({
    id: p.id,
    secret: p.secret,
    ...(p.expiration ? { expiration: p.expiration } : {}),
    description: presetDescription(p.source),
  });
  s.metadata.labels = { [PRESET_LABEL]: "true" };
  return s;
}

export type PresetAction = "created" | "updated" | "unchanged" | "none" | "expired";

function sameData(a: KubeObject, b: KubeObject): boolean {
  const da = (a.data ?? {}) as Record<string, unknown>;
  const db = (b.data ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(da), ...Object.keys(db)]);
  for (const k of keys) if (da[k] !== db[k]) return false;
  return a.type === b.type && a.metadata.labels?.[PRESET_LABEL] === "true";
}

/**
 * Makes the hub's tokens match the preset (null = none): deletes labelled tokens with another
 * id, then creates or updates bootstrap-token-<id>. Safe to run on every start.
 */
export async function ensurePresetToken(
  client: Pick<Client, "get" | "list" | "create" | "update" | "delete">,
  presetIn: PresetJoinToken | null,
  logger: Logger,
  now: Date = new Date(),
): Promise<PresetAction> {
  const log = logger.child({ component: "preset-token" });
  const expired = presetIn?.expiration !== undefined && presetIn.expiration.getTime() <= now.getTime();
  if (expired && presetIn) {
    log.warn(
      { tokenId: presetIn.id, file: presetIn.source, expiration: metaTime(presetIn.expiration!) },
      "the preset join token has expired and is not valid: write a new token into the file (or drop its expiration line) and restart the hub",
    );
  }
  const preset = expired ? null : presetIn;
  const { items } = await client.list(refs.secrets, BOOTSTRAP_NAMESPACE);
  for (const s of items) {
    if (s.metadata.labels?.[PRESET_LABEL] !== "true") continue;
    const t = readBootstrapSecret(s);
    if (preset && t?.id === preset.id) continue;
    await client.delete(refs.secrets, BOOTSTRAP_NAMESPACE, s.metadata.name ?? "").catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 404) throw err;
    });
    log.info({ tokenId: t?.id }, "previous preset join token deleted");
  }
  if (!preset) return expired ? "expired" : "none";
  const want = presetTokenSecret(preset);
  const name = bootstrapSecretName(preset.id);
  const cur = await client.get(refs.secrets, BOOTSTRAP_NAMESPACE, name);
  const fields = { tokenId: preset.id, file: preset.source };
  if (!cur) {
    await client.create(refs.secrets, BOOTSTRAP_NAMESPACE, want);
    log.info(fields, "preset join token created");
    return "created";
  }
  if (sameData(cur, want)) {
    log.debug(fields, "preset join token already in place");
    return "unchanged";
  }
  if (cur.metadata.labels?.[PRESET_LABEL] !== "true") {
    log.warn(fields, "a join token with the preset's id existed; the preset replaces it");
  }
  if (cur.type !== want.type) {
    // a Secret's type is immutable: replace the object
    await client.delete(refs.secrets, BOOTSTRAP_NAMESPACE, name);
    await client.create(refs.secrets, BOOTSTRAP_NAMESPACE, want);
    log.info(fields, "preset join token replaced a Secret of another type");
    return "updated";
  }
  await client.update(refs.secrets, BOOTSTRAP_NAMESPACE, {
    ...want,
    metadata: {
      ...cur.metadata,
      labels: { ...(cur.metadata.labels ?? {}), [PRESET_LABEL]: "true" },
    },
  });
  log.info(fields, "preset join token updated");
  return "updated";
}
