/**
 * `edge-hub token create|list|delete`: join tokens, managed through the running hub's API with
 * the admin kubeconfig in its data dir (kube-system/bootstrap-token-<id> Secrets).
 */
import { join, resolve } from "node:path";
import { metaTime } from "../api/time.js";
import { HttpClient, HttpError } from "../client/http-client.js";
import {
  BOOTSTRAP_NAMESPACE,
  bootstrapSecretName,
  bootstrapTokenSecret,
  readBootstrapSecret,
} from "../hub/edge/bootstrap-token.js";
import { parseFlags, UsageError } from "../lib/args.js";
import { caHash } from "../lib/ca-hash.js";
import { formatJoinToken, generateTokenParts, TOKEN_ID_RE } from "../lib/join-token.js";

export const TOKEN_HELP = `Usage: edge-hub token <create|list|delete|ca-hash> [flags]

  token create [--ttl 24h] [--description TEXT]   print a new join token (--ttl 0 = never expires)
  token list                                      list join tokens (ids, expiry, description)
  token delete ID                                 revoke a join token
  token ca-hash                                   print the hub's CA hash (sha256:<hex>) for
                                                  "edge-agent join --token <id>.<secret> --ca-hash"

flags:
  --data-dir DIR     the hub's data dir (its admin.kubeconfig is used) (default /var/lib/edgekube/hub)
  --kubeconfig FILE  use this kubeconfig instead
`;

const SECRETS = `/api/v1/namespaces/${BOOTSTRAP_NAMESPACE}/secrets`;

/** "24h", "90m", "1h30m", "45s", "0" → milliseconds (0 = never expires). */
export function parseTtl(v: string): number {
  if (v === "0") return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (!m || v === "")
    throw new UsageError(`--ttl "${v}" is not a duration: use e.g. 24h, 90m, 1h30m or 0 (never expires)`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

export async function tokenMain(
  argv: string[],
  out: (s: string) => void,
  defaultDataDir: string,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseFlags(
    rest,
    {
      "data-dir": { type: "string" },
      kubeconfig: { type: "string" },
      ttl: { type: "string" },
      description: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    `edge-hub token ${sub ?? ""}`.trim(),
  );
  if (values.help || sub === undefined || sub === "help") {
    out(TOKEN_HELP);
    return sub === undefined ? 2 : 0;
  }
  const kubeconfig =
    values.kubeconfig ?? join(resolve(values["data-dir"] ?? defaultDataDir), "admin.kubeconfig");
  const client = () => HttpClient.fromKubeconfig(kubeconfig);
  switch (sub) {
    case "create": {
      const ttl = parseTtl(values.ttl ?? "24h");
      const http = client();
      const { id, secret } = generateTokenParts();
      await http.post(
        SECRETS,
        bootstrapTokenSecret({
          id,
          secret,
          ...(ttl > 0 ? { expiration: new Date(Date.now() + ttl) } : {}),
          ...(values.description ? { description: values.description } : {}),
        }),
      );
      out(`${formatJoinToken(caHash(http.config.caPem), id, secret)}\n`);
      return 0;
    }
    case "ca-hash": {
      out(`${caHash(client().config.caPem)}\n`);
      return 0;
    }
    case "list": {
      const list = await client().get<{ items?: unknown[] }>(SECRETS);
      const rows = [["ID", "TTL", "EXPIRES", "DESCRIPTION"]];
      const now = Date.now();
      for (const item of list.items ?? []) {
        const t = readBootstrapSecret(item as Parameters<typeof readBootstrapSecret>[0]);
        if (!t) continue;
        const left = t.expiration ? t.expiration.getTime() - now : undefined;
        rows.push([
          t.id,
          left === undefined ? "<forever>" : left <= 0 ? "<expired>" : humanDuration(left),
          t.expiration ? metaTime(t.expiration) : "<never>",
          t.description ?? "<none>",
        ]);
      }
      out(table(rows));
      return 0;
    }
    case "delete": {
      const id = positionals[0]?.replace(/^bootstrap-token-/, "").split(".")[0];
      if (!id || !TOKEN_ID_RE.test(id)) {
        throw new UsageError(
          'edge-hub token delete: give the 6-character token id (see "edge-hub token list")',
        );
      }
      try {
        await client().delete(`${SECRETS}/${bootstrapSecretName(id)}`);
      } catch (err) {
        if (err instanceof HttpError && err.code === 404) {
          throw new Error(`no join token with id "${id}": see "edge-hub token list"`);
        }
        throw err;
      }
      out(`join token ${id} deleted\n`);
      return 0;
    }
    default:
      throw new UsageError(`edge-hub token: unknown command "${sub}"\n\n${TOKEN_HELP}`);
  }
}

function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]! + 3))
          .join("")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}
