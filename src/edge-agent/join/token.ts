/**
 * Join tokens: `K10<sha256 of the hub CA's DER, 64 hex>::<id>.<secret>` (k3s' secure token format
 * with kubeadm's bootstrap-token id and secret: id 6 chars, secret 16 chars, both [a-z0-9]).
 *
 * Design notes
 * - The CA hash is the trust anchor of the whole join: the agent downloads the CA unauthenticated
 *   and trusts it only if its hash equals the token's, so a token is useless against another hub
 *   and a man in the middle cannot substitute his own CA.
 * - `id.secret` is sent as a Bearer token to the join endpoint (upstream's bootstrap token form).
 * - Errors never echo the secret: the token is a credential and may end up in logs.
 */

export interface JoinToken {
  /** "sha256:<64 hex>" as computed by pki.caHash */
  caHash: string;
  id: string;
  secret: string;
  /** what goes into `Authorization: Bearer …` */
  bearer: string;
}

export class JoinTokenError extends Error {
  constructor(problem: string) {
    super(
      `the join token is malformed: ${problem}; expected K10<64 hex>::<6 chars>.<16 chars> as printed by "edge-hub token create"`,
    );
    this.name = "JoinTokenError";
  }
}

const TOKEN_RE = /^K10([0-9a-fA-F]{64})::([a-z0-9]{6})\.([a-z0-9]{16})$/;

export function parseJoinToken(text: string): JoinToken {
  const t = text.trim();
  if (t === "") throw new JoinTokenError("it is empty");
  if (!t.startsWith("K10")) throw new JoinTokenError('it does not start with "K10"');
  const sep = t.indexOf("::");
  if (sep < 0) throw new JoinTokenError('"::" between the CA hash and the credentials is missing');
  if (!/^[0-9a-fA-F]{64}$/.test(t.slice(3, sep))) {
    throw new JoinTokenError("the CA hash is not 64 hexadecimal digits");
  }
  const m = TOKEN_RE.exec(t);
  if (!m) {
    throw new JoinTokenError(
      "the credentials after '::' are not <id>.<secret> (6 and 16 characters a-z 0-9)",
    );
  }
  const [, hash = "", id = "", secret = ""] = m;
  return { caHash: `sha256:${hash.toLowerCase()}`, id, secret, bearer: `${id}.${secret}` };
}
