// The credential contract the provider's Key Vault calls use: @azure/core-auth's TokenCredential shape
// (the one @azure/identity implemented), declared here so the runtime needs none of the SDK packages.
// Every identity kind implements it (entra-credentials.ts, managed-identity-credential.ts,
// pod-identity-credential.ts) and CachingCredential wraps each.

/** An access token and when it expires. */
export interface AccessToken {
  readonly token: string;
  /** Expiry, ms since the epoch. */
  readonly expiresOnTimestamp: number;
  /** When to refresh it ahead of expiry (Entra ID's refresh_in), ms since the epoch. */
  readonly refreshAfterTimestamp?: number;
}

/** Options of one token request. */
export interface GetTokenOptions {
  readonly abortSignal?: AbortSignal;
  /** A tenant a challenge names (ignored: the SecretProviderClass's tenant is the one used). */
  readonly tenantId?: string;
  /** Claims of a claims challenge (a fresh token, never a cached one). */
  readonly claims?: string;
}

/** Something that gets access tokens for a scope. */
export interface TokenCredential {
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>;
}
