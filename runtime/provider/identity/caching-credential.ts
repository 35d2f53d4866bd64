// Reuses an access token until shortly before it expires, with single-flight, so every Mount of one
// identity costs no token request while the token is fresh (upstream asks Entra ID per Mount).
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** The identity endpoint gave no token (the message is the endpoint's, unchanged). */
export class IdentityTokenError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'IdentityTokenError';
  }
}

/** Options of the caching wrapper. */
export interface CachingCredentialProps {
  /** Refresh this long before `expiresOn`. @default 300000 (5 min) */
  readonly refreshMarginMs?: number;
  /** Called for every token request that reaches the wrapped credential. */
  readonly onTokenRequest?: () => void;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

export class CachingCredential implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly inflight = new Map<string, Promise<AccessToken>>();
  private readonly now: () => number;

  constructor(
    private readonly inner: TokenCredential,
    private readonly props: CachingCredentialProps = {},
  ) {
    this.now = props.now ?? Date.now;
  }

  private fresh(token: AccessToken): boolean {
    const refreshAt = Math.min(
      token.refreshAfterTimestamp ?? Infinity,
      token.expiresOnTimestamp - (this.props.refreshMarginMs ?? 300_000),
    );
    return this.now() < refreshAt;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    // The tenant is the SecretProviderClass's (tenantID), not whatever a vault's challenge names;
    // a CAE claims challenge always goes to Entra ID.
    const { tenantId: _ignoredChallengeTenant, ...rest } = options;
    if (rest.claims) return this.request(scopes, rest);
    const key = Array.isArray(scopes) ? [...scopes].sort().join(' ') : scopes;
    const cached = this.tokens.get(key);
    if (cached && this.fresh(cached)) return cached;
    let running = this.inflight.get(key);
    if (!running) {
      running = this.request(scopes, rest).then(
        (token) => {
          this.inflight.delete(key);
          this.tokens.set(key, token);
          return token;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, running);
    }
    return running;
  }

  private async request(scopes: string | string[], options: GetTokenOptions): Promise<AccessToken> {
    this.props.onTokenRequest?.();
    let token: AccessToken | null;
    try {
      token = await this.inner.getToken(scopes, options);
    } catch (err) {
      throw new IdentityTokenError(err);
    }
    if (!token) throw new IdentityTokenError(new Error('the identity returned no access token'));
    return token;
  }
}
