/** Pod-bound service account tokens from the hub, for projected volumes (docs/pods.md). */
export { type CachedToken, needsRefresh, TokenCache, tokenKey, usable } from "./token-cache.js";
export {
  ServiceAccountTokenManager,
  type TokenLink,
  type TokenManagerOptions,
} from "./token-manager.js";
