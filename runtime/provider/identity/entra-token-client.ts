// Entra ID's client-credentials grant as the provider uses it (what @azure/identity's ClientSecretCredential
// and ClientAssertionCredential sent through MSAL): the authority's token endpoint from its OpenID
// metadata (learnt once per authority and kept), then one form POST per token with the client secret or
// the service-account token as client assertion. Failures read as MSAL words them (`<error>: Error(s):
// <codes> - Timestamp: ... - Description: <AADSTS...> - Correlation ID: ... - Trace ID: ...`), 429/5xx
// and dropped connections are retried twice. test/runtime/provider/entra-credentials.test.ts runs both
// side by side against the fake Entra ID.
import type { Agent } from 'node:https';
import { httpsRequest, HttpsResponse, HttpsTransportError, headerValue } from '../rest/https-request';
import { parseRetryAfter, RetryDecision, withRetries } from '../keyvault/retry';
import { SingleFlight } from '../single-flight';
import type { AccessToken } from './token-credential';

/** Largest answer read from Entra ID (a token response is a few KiB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Authorities whose token endpoint is kept (one per cloud × tenant in use). */
const MAX_AUTHORITIES = 256;
/** MSAL's placeholder for a field an error answer lacks. */
const NOT_AVAILABLE = 'Not Available';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra ID refused the request, or could not be reached (`status` undefined). */
export class EntraTokenError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    /** OAuth `error` (invalid_client, ...) or Node's code for a transport failure. */
    readonly code: string | undefined,
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = 'EntraTokenError';
  }
}

/** One client-credentials token request. */
export interface ClientCredentialsRequest {
  /** The cloud's activeDirectoryEndpoint, e.g. https://login.microsoftonline.com/. */
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  /** e.g. https://vault.azure.net/.default */
  readonly scope: string;
  /** The client secret (service principal), or the client assertion (workload identity). */
  readonly secret: { readonly clientSecret: string } | { readonly clientAssertion: string };
  /** Claims of a claims challenge. */
  readonly claims?: string;
  readonly signal?: AbortSignal;
}

/** Options of the client. */
export interface EntraTokenClientProps {
  /** Connection pool to Entra ID. @default Node's global agent */
  readonly agent?: Agent;
  /** Retries after the first attempt (429, 5xx, dropped connections). @default 2 */
  readonly maxRetries?: number;
  /** First backoff, ms. @default 500 */
  readonly baseDelayMs?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_in?: unknown;
  error?: unknown;
  error_description?: unknown;
  error_codes?: unknown;
  timestamp?: unknown;
  trace_id?: unknown;
  correlation_id?: unknown;
}

/** The authority URL: `<host>/<tenant>` (no trailing slash). */
export function authorityUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${tenantId}`;
}

/** Where MSAL reads an authority's OpenID metadata: ADFS at its root, Entra ID under v2.0. */
export function openIdConfigurationUrl(authority: string): string {
  const adfs = new URL(authority).pathname.split('/').filter(Boolean)[0]?.toLowerCase() === 'adfs';
  return `${authority}${adfs ? '' : '/v2.0'}/.well-known/openid-configuration`;
}

/** An error answer in MSAL's words. */
export function msalErrorMessage(answer: TokenAnswer): string {
  const field = (value: unknown) =>
    value === undefined || value === null || value === '' ? NOT_AVAILABLE : String(value);
  const codes =
    Array.isArray(answer.error_codes) && answer.error_codes.length
      ? answer.error_codes.join(',')
      : NOT_AVAILABLE;
  const detail =
    `Error(s): ${codes} - Timestamp: ${field(answer.timestamp)} - Description: ${field(answer.error_description)}` +
    ` - Correlation ID: ${field(answer.correlation_id)} - Trace ID: ${field(answer.trace_id)}`;
  const error = typeof answer.error === 'string' ? answer.error : '';
  return `${error}: ${detail}`;
}

function classify(err: unknown): RetryDecision {
  if (!(err instanceof EntraTokenError)) return { retryable: false };
  if (err.status === undefined)
    return { retryable: err.code !== 'ENOTFOUND' && err.code !== 'RESPONSE_TOO_LARGE', reason: 'network' };
  if (err.status === 429)
    return { retryable: true, reason: 'throttled', retryAfterMs: parseRetryAfter(err.retryAfter) };
  if (err.status >= 500 && err.status !== 501 && err.status !== 505)
    return { retryable: true, reason: 'server_error', retryAfterMs: parseRetryAfter(err.retryAfter) };
  return { retryable: false };
}

export class EntraTokenClient {
  private readonly tokenEndpoints = new Map<string, string>();
  /** Metadata reads in flight: the cold Mounts of one tenant start together (a node boot) and share one. */
  private readonly endpointLookups = new SingleFlight<string>();
  private readonly now: () => number;

  constructor(private readonly props: EntraTokenClientProps = {}) {
    this.now = props.now ?? Date.now;
  }

  /** An access token for `request.scope`, or an EntraTokenError with Entra ID's answer. */
  async token(request: ClientCredentialsRequest): Promise<AccessToken> {
    const authority = authorityUrl(request.authorityHost, request.tenantId);
    return withRetries(() => this.tokenOnce(authority, request), {
      maxRetries: this.props.maxRetries ?? 2,
      baseDelayMs: this.props.baseDelayMs ?? 500,
      maxDelayMs: 4000,
      maxRetryAfterMs: 10_000,
      classify,
      signal: request.signal,
    });
  }

  private async tokenOnce(authority: string, request: ClientCredentialsRequest): Promise<AccessToken> {
    const endpoint = await this.tokenEndpoint(authority, request.signal);
    const form = new URLSearchParams({
      client_id: request.clientId,
      scope: request.scope,
      grant_type: 'client_credentials',
    });
    if ('clientSecret' in request.secret) form.set('client_secret', request.secret.clientSecret);
    else {
      form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      form.set('client_assertion', request.secret.clientAssertion);
    }
    if (request.claims) form.set('claims', request.claims);
    const sentAt = this.now();
    const response = await this.send(new URL(endpoint), 'POST', request.signal, form.toString());
    const answer = parseAnswer(response);
    if (response.status !== 200 || answer.error !== undefined || typeof answer.access_token !== 'string')
      throw new EntraTokenError(
        answer.error !== undefined || answer.error_description !== undefined
          ? msalErrorMessage(answer)
          : `Entra ID answered ${response.status} without a token`,
        response.status,
        typeof answer.error === 'string' ? answer.error : undefined,
        headerValue(response, 'retry-after'),
      );
    const expiresIn = Number(answer.expires_in);
    if (!Number.isFinite(expiresIn) || expiresIn <= 0)
      throw new EntraTokenError(
        'Entra ID answered a token without a valid expires_in',
        response.status,
        'invalid_response',
      );
    // MSAL's refresh time: refresh_in when Entra sends it, else half the lifetime of a token of 2 h or more.
    const refreshIn = Number(answer.refresh_in);
    const refreshAfterSeconds =
      Number.isFinite(refreshIn) && refreshIn > 0 ? refreshIn : expiresIn >= 7200 ? expiresIn / 2 : undefined;
    return {
      token: answer.access_token,
      expiresOnTimestamp: sentAt + expiresIn * 1000,
      ...(refreshAfterSeconds !== undefined
        ? { refreshAfterTimestamp: sentAt + refreshAfterSeconds * 1000 }
        : {}),
    };
  }

  /** The authority's token endpoint, from its OpenID metadata (kept per authority, read once at a time). */
  private async tokenEndpoint(authority: string, signal?: AbortSignal): Promise<string> {
    const known = this.tokenEndpoints.get(authority);
    if (known) return known;
    return this.endpointLookups.run(authority, (shared) => this.readTokenEndpoint(authority, shared), signal)
      .result;
  }

  private async readTokenEndpoint(authority: string, signal: AbortSignal): Promise<string> {
    const response = await this.send(new URL(openIdConfigurationUrl(authority)), 'GET', signal);
    const metadata = parseAnswer(response) as TokenAnswer & { token_endpoint?: unknown };
    if (response.status !== 200 || typeof metadata.token_endpoint !== 'string')
      throw new EntraTokenError(
        metadata.error !== undefined
          ? msalErrorMessage(metadata)
          : `endpoints_resolution_error: the OpenID metadata of ${authority} (status ${response.status}) names no token_endpoint`,
        response.status,
        typeof metadata.error === 'string' ? metadata.error : 'endpoints_resolution_error',
        headerValue(response, 'retry-after'),
      );
    const endpoint = new URL(metadata.token_endpoint);
    if (endpoint.protocol !== new URL(authority).protocol)
      throw new EntraTokenError(
        `endpoints_resolution_error: the token endpoint of ${authority} is not on ${new URL(authority).protocol}`,
        response.status,
        'endpoints_resolution_error',
      );
    this.tokenEndpoints.set(authority, endpoint.href);
    while (this.tokenEndpoints.size > MAX_AUTHORITIES)
      this.tokenEndpoints.delete(this.tokenEndpoints.keys().next().value as string);
    return endpoint.href;
  }

  private async send(
    url: URL,
    method: 'GET' | 'POST',
    signal?: AbortSignal,
    body?: string,
  ): Promise<HttpsResponse> {
    try {
      return await httpsRequest({
        method,
        url,
        body,
        headers: {
          accept: 'application/json',
          ...(body !== undefined
            ? { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' }
            : {}),
        },
        agent: this.props.agent,
        signal,
        maxBodyBytes: MAX_BODY_BYTES,
      });
    } catch (err) {
      if (err instanceof HttpsTransportError)
        throw new EntraTokenError(`network_error: ${url.host}: ${err.message}`, undefined, err.code);
      throw err;
    }
  }
}

function parseAnswer(response: HttpsResponse): TokenAnswer {
  try {
    const parsed = JSON.parse(response.body) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as TokenAnswer) : {};
  } catch {
    return {};
  }
}
