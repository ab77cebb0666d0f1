/**
 * What `edge-agent join` trusts: the token text plus `--ca-hash` / `--insecure-trust-first-ca`
 * → the bootstrap id and secret and how the hub's CA is to be trusted.
 *
 *   K10<hash>::<id>.<secret>                       the token pins the CA (`edge-hub token create`)
 *   <id>.<secret> --ca-hash sha256:<hex>           pinned by the flag (`edge-hub token ca-hash`)
 *   <id>.<secret> --insecure-trust-first-ca        trust on first use: the CA /cacerts returns
 *   <id>.<secret> alone                            refused, naming both options
 *
 * Design notes
 * - A short token exists because a preset token (`edge-hub server --join-token-file`) is chosen
 *   before the hub's CA exists, so it cannot carry the pin. k3s accepts such a token silently;
 *   we ask for the pin or an explicit opt-in, because the secret is sent to whoever answers.
 * - The K10 path is never weakened: a conflicting --ca-hash is an error, and
 *   --insecure-trust-first-ca next to a K10 token is refused rather than ignored, so a command
 *   line never suggests a weaker check than the one that runs.
 * - Pure: src/cmd passes argv values in; errors are JoinOptionErrors (usage errors there).
 */
import { JoinTokenError, parseBearerToken, parseCaHash, parseJoinToken } from "../../lib/join-token.js";
import { JoinOptionError } from "./options.js";

export interface JoinCredential {
  id: string;
  secret: string;
  /** lower-case hex sha256 of the CA's DER; absent = trust on first use */
  caHash?: string;
}

export const NO_CA_PIN_HELP =
  "a short token <id>.<secret> does not say which hub to trust: add --ca-hash sha256:<hex> " +
  '(print it on the hub with "edge-hub token ca-hash"), or --insecure-trust-first-ca to trust the CA ' +
  'the hub presents now and check the hash it prints; or use the full K10… token from "edge-hub token create"';

export function resolveJoinCredential(
  tokenText: string,
  opts: { caHash?: string; trustFirstCA?: boolean },
): JoinCredential {
  const text = tokenText.trim();
  const pin = opts.caHash === undefined ? undefined : wrap(() => parseCaHash(opts.caHash ?? ""));
  if (text.startsWith("K10")) {
    const full = wrap(() => parseJoinToken(text));
    if (opts.trustFirstCA) {
      throw new JoinOptionError(
        "--insecure-trust-first-ca is only for a short <id>.<secret> token: this K10 token already pins the hub's CA; drop the flag",
      );
    }
    if (pin !== undefined && pin !== full.caHash) {
      throw new JoinOptionError(
        `--ca-hash sha256:${pin} disagrees with the CA pinned in the K10 token (sha256:${full.caHash}): drop --ca-hash or use the token of this hub`,
      );
    }
    return full;
  }
  const short = parseBearerToken(text);
  if (!short) {
    throw new JoinOptionError(
      'the join token is malformed: give the full K10<64 hex>::<id>.<secret> from "edge-hub token create", ' +
        "or a short <id>.<secret> (6 and 16 characters of a-z and 0-9) with --ca-hash or --insecure-trust-first-ca",
    );
  }
  if (pin !== undefined && opts.trustFirstCA) {
    throw new JoinOptionError("--ca-hash and --insecure-trust-first-ca exclude each other: keep --ca-hash");
  }
  if (pin !== undefined) return { ...short, caHash: pin };
  if (opts.trustFirstCA) return short;
  throw new JoinOptionError(NO_CA_PIN_HELP);
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof JoinTokenError) throw new JoinOptionError(e.message);
    throw e;
  }
}
