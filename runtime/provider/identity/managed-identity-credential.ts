// A VM managed identity through the Instance Metadata Service (what @azure/identity's
// ManagedIdentityCredential did on an AKS node): GET /metadata/identity/oauth2/token with `Metadata: true`,
// api-version 2018-02-01, the resource and (user-assigned) client_id, on http://169.254.169.254 or on
// AZURE_POD_IDENTITY_AUTHORITY_HOST when set (aad-pod-identity's NMI, and the tests' IMDS double), as
// @azure/identity honoured it. IMDS answers 404/410 while an identity is being attached and 429/5xx
// under load: those are retried with backoff (5 retries from 800 ms; 410 from 3 s), as the SDK's
// imdsRetryPolicy did. Messages are the SDK's: `ManagedIdentityCredential: Authentication failed.
// Message <MSAL's error text>` and `... Network unreachable. Message: ...`. The other managed-identity
// sources MSAL detects from the environment (App Service, Arc, Cloud Shell, Service Fabric) do not exist
// on a node, and are not looked for.
import type { Agent } from 'node:http';
import { httpsRequest, HttpsResponse, HttpsTransportError, headerValue } from '../rest/https-request';
import { parseRetryAfter, RetryDecision, withRetries } from '../keyvault/retry';
import { msalErrorMessage } from './entra-token-client';
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential';

const IMDS_HOST = 'http://169.254.169.254';
const TOKEN_PATH = '/metadata/identity/oauth2/token';
const API_VERSION = '2018-02-01';
const MAX_BODY_BYTES = 1024 * 1024;

/** IMDS refused, or could not be reached (`status` undefined). */
export class ManagedIdentityError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = 'ManagedIdentityError';
  }
}

/** Options of the credential. */
export interface ManagedIdentityCredentialProps {
  /** Client id of a user-assigned identity; none = the VM's system-assigned identity. */
  readonly clientId?: string;
  /** IMDS base URL. @default $AZURE_POD_IDENTITY_AUTHORITY_HOST, else http://169.254.169.254 */
  readonly endpoint?: string;
  /** Connection pool. @default Node's global agent */
  readonly agent?: Agent;
  /** Retries after the first attempt. @default 5 */
  readonly maxRetries?: number;
  /** First backoff, ms (a 410 waits at least 3 s). @default 800 */
  readonly baseDelayMs?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** A scope as IMDS takes it: the resource, without `/.default`. */
export function resourceOfScope(scopes: string | string[]): string {
  const scope = Array.isArray(scopes) ? (scopes[0] ?? '') : scopes;
  if (Array.isArray(scopes) && scopes.length !== 1)
    throw new ManagedIdentityError(
      `ManagedIdentityCredential: Multiple scopes are not supported. Scopes: ${JSON.stringify(scopes)}`,
      undefined,
    );
  return scope.endsWith('/.default') ? scope.slice(0, -'/.default'.length) : scope;
}

export class ImdsManagedIdentityCredential implements TokenCredential {
  private readonly now: () => number;

  constructor(private readonly props: ManagedIdentityCredentialProps = {}) {
    this.now = props.now ?? Date.now;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    const url = new URL(
      TOKEN_PATH,
      this.props.endpoint ?? process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? IMDS_HOST,
    );
    url.searchParams.set('api-version', API_VERSION);
    url.searchParams.set('resource', resourceOfScope(scopes));
    if (this.props.clientId) url.searchParams.set('client_id', this.props.clientId);
    const baseDelayMs = this.props.baseDelayMs ?? 800;
    return withRetries(() => this.once(url, options.abortSignal), {
      maxRetries: this.props.maxRetries ?? 5,
      baseDelayMs,
      maxDelayMs: 64_000,
      classify: (err) => classify(err, baseDelayMs),
      signal: options.abortSignal,
    });
  }

  private async once(url: URL, signal?: AbortSignal): Promise<AccessToken> {
    const sentAt = this.now();
    let response: HttpsResponse;
    try {
      response = await httpsRequest({
        method: 'GET',
        url,
        headers: { accept: 'application/json', metadata: 'true' },
        agent: this.props.agent,
        signal,
        maxBodyBytes: MAX_BODY_BYTES,
      });
    } catch (err) {
      if (err instanceof HttpsTransportError)
        throw new ManagedIdentityError(
          `ManagedIdentityCredential: Network unreachable. Message: network_error: ${url.host}: ${err.message}`,
          undefined,
        );
      throw err;
    }
    let answer: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(response.body) as unknown;
      if (parsed !== null && typeof parsed === 'object') answer = parsed as Record<string, unknown>;
    } catch {
      // Not JSON: the status says it.
    }
    if (response.status !== 200 || typeof answer.access_token !== 'string') {
      const detail =
        answer.error !== undefined || answer.error_description !== undefined
          ? msalErrorMessage(answer)
          : `IMDS answered ${response.status} without a token`;
      throw new ManagedIdentityError(
        `ManagedIdentityCredential: Authentication failed. Message ${detail}`,
        response.status,
        headerValue(response, 'retry-after'),
      );
    }
    let expiresIn = Number(answer.expires_in);
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) expiresIn = Number(answer.expires_on) - sentAt / 1000;
    if (!Number.isFinite(expiresIn) || expiresIn <= 0)
      throw new ManagedIdentityError(
        'ManagedIdentityCredential: Authentication failed. Message Response had no "expiresOn" property.',
        response.status,
      );
    return {
      token: answer.access_token,
      expiresOnTimestamp: sentAt + expiresIn * 1000,
      // MSAL refreshes a managed-identity token of 2 h or more at half its lifetime.
      ...(expiresIn >= 7200 ? { refreshAfterTimestamp: sentAt + (expiresIn / 2) * 1000 } : {}),
    };
  }
}

function classify(err: unknown, baseDelayMs: number): RetryDecision {
  if (!(err instanceof ManagedIdentityError)) return { retryable: false };
  const status = err.status;
  if (status === undefined) return { retryable: true, reason: 'network' };
  if (status === 410)
    return { retryable: true, reason: 'server_error', retryAfterMs: Math.max(3000, baseDelayMs) };
  if (status === 404 || status === 429 || (status >= 500 && status !== 501 && status !== 505))
    return {
      retryable: true,
      reason: status === 429 ? 'throttled' : 'server_error',
      retryAfterMs: parseRetryAfter(err.retryAfter),
    };
  return { retryable: false };
}
