// Reuses an access token until shortly before it expires, with single-flight, so every Mount of one
// identity costs no token request while the token is fresh (upstream asks Entra ID per Mount).
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential';
import { SingleFlight } from '../single-flight';

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
  private readonly flights = new SingleFlight<AccessToken>();
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
    const { tenantId: _ignoredChallengeTenant, abortSignal, ...rest } = options;
    if (rest.claims) return this.request(scopes, { ...rest, abortSignal });
    const key = Array.isArray(scopes) ? [...scopes].sort().join(' ') : scopes;
    const cached = this.tokens.get(key);
    if (cached && this.fresh(cached)) return cached;
    // The request is shared by every Key Vault call that needs this token: it is cancelled only
    // when all of them have gone, never because the call that started it was.
    return this.flights.run(
      key,
      async (signal) => {
        const token = await this.request(scopes, { ...rest, abortSignal: signal });
        this.tokens.set(key, token);
        return token;
      },
      abortSignal,
    ).result;
  }

  /** True while a token request is in flight (a Mount past its deadline says it waited on Entra ID). */
  isRequesting(): boolean {
    return this.flights.size > 0;
  }

  /** Keeps `token` for `scopes` (a token obtained elsewhere for the same identity). */
  seed(scopes: string | string[], token: AccessToken): void {
    this.tokens.set(Array.isArray(scopes) ? [...scopes].sort().join(' ') : scopes, token);
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
