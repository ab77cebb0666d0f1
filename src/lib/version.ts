/** Version facts reported by `--version` and the API server's /version. */
export const EDGEKUBE_VERSION = "0.1.0";
/** The Kubernetes version the API emulates: kubectl picks its matching client from it. */
export const KUBE_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0-edgekube" } as const;

export function buildCommit(): string {
  return process.env.EDGEKUBE_BUILD_COMMIT || "unknown";
}
