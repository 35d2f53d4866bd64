// The credentials of the Entra ID identity kinds, each a thin TokenCredential over one shared
// EntraTokenClient (one connection pool and one token-endpoint table for every identity): a service
// principal presents its client secret, a workload identity its service-account token as client
// assertion. What @azure/identity's ClientSecretCredential and ClientAssertionCredential did for the
// provider, without an MSAL application (its caches, logger and crypto provider) per identity.
import type { EntraTokenClient } from './entra-token-client';
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential';

/** Who the token is for. */
export interface EntraApplication {
  /** The cloud's activeDirectoryEndpoint. */
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
}

/** Scopes as MSAL sends them: space-separated. */
function scopeText(scopes: string | string[]): string {
  return Array.isArray(scopes) ? scopes.join(' ') : scopes;
}

/** A service principal: client id and client secret. */
export class ClientSecretTokenCredential implements TokenCredential {
  constructor(
    private readonly client: EntraTokenClient,
    private readonly app: EntraApplication,
    private readonly clientSecret: string,
  ) {}

  getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    return this.client.token({
      ...this.app,
      scope: scopeText(scopes),
      secret: { clientSecret: this.clientSecret },
      claims: options.claims,
      signal: options.abortSignal,
    });
  }
}

/** A workload identity: the client assertion is the (federated) service-account token. */
export class ClientAssertionTokenCredential implements TokenCredential {
  constructor(
    private readonly client: EntraTokenClient,
    private readonly app: EntraApplication,
    private readonly assertion: () => string,
  ) {}

  getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    return this.client.token({
      ...this.app,
      scope: scopeText(scopes),
      secret: { clientAssertion: this.assertion() },
      claims: options.claims,
      signal: options.abortSignal,
    });
  }
}
