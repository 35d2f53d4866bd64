// Identity binding (useAzureTokenProxy, AKS): the pod's service-account token for api://AKSIdentityBinding
// is the client assertion of an Entra ID client-credentials request for the managed identity `clientId`,
// sent to the AKS token proxy instead of Entra ID, exactly where upstream v1.8 (azidentity's proxy
// transport) sends it: the authority's own path (`/<tenant>/oauth2/v2.0/token`) under the proxy URL's
// path, the authority's Host header, the proxy's TLS server name, the cluster CA. The proxy checks the
// service account may use the identity (AKS RBAC) and answers with Entra ID's token or error.
// Ours sends only the token request (upstream's MSAL first fetches the tenant's OpenID metadata through
// the proxy) with the form fields Entra ID needs (no client_info, no openid scopes, no CAE capability),
// retried on 408/429/5xx and network errors as azcore retries it (3 retries).
import * as https from 'node:https';
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential';
import { parseRetryAfter, RetryDecision, withRetries } from '../keyvault/retry';
import { TokenProxyTarget } from './token-proxy-target';

/** Properties of {@link TokenProxyCredential}. */
export interface TokenProxyCredentialProps {
  readonly tenantId: string;
  /** Client id of the user-assigned managed identity the AKS IdentityBinding names. */
  readonly clientId: string;
  /** The service-account token for api://AKSIdentityBinding to present. */
  readonly assertion: () => string;
  /** The cloud's activeDirectoryEndpoint (its host is the Host header, its path the path prefix). */
  readonly authorityHost: string;
  readonly target: TokenProxyTarget;
  /** Connection pool for the proxy. @default a keep-alive agent of this module */
  readonly agent?: https.Agent;
  /** Timeout of one attempt, ms. @default 30000 */
  readonly attemptTimeoutMs?: number;
  /** Retries after the first attempt. @default 3 */
  readonly maxRetries?: number;
  /** First backoff, ms (doubled per retry). @default 800 */
  readonly retryBaseDelayMs?: number;
}

/** A token request the proxy answered with an error, or could not be sent. */
export class TokenProxyRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
    readonly networkCode?: string,
  ) {
    super(message);
    this.name = 'TokenProxyRequestError';
  }
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const TENANT_ID = /^[A-Za-z0-9.-]+$/;
const TLS_TRUST_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
]);
const sharedAgent = new https.Agent({ keepAlive: true, maxSockets: 16, timeout: 60_000 });

/**
 * Checks what upstream checks before the first token request (tenant id, proxy configuration, server
 * name); rejects with upstream's text, which the Mount reports as `failed to get keyvault client: ...`.
 */
export async function checkTokenProxyReady(target: TokenProxyTarget, tenantId: string): Promise<void> {
  if (!TENANT_ID.test(tenantId) || tenantId === '.' || tenantId === '..')
    throw new Error(
      'invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names',
    );
  await target.tls();
}

export class TokenProxyCredential implements TokenCredential {
  constructor(private readonly props: TokenProxyCredentialProps) {}

  /** The request path: the proxy URL's path, then the authority's path, tenant and token endpoint. */
  private tokenPath(): string {
    const authorityPath = new URL(this.props.authorityHost).pathname;
    const segments = [
      this.props.target.url.pathname,
      authorityPath,
      this.props.tenantId,
      'oauth2/v2.0/token',
    ];
    return `/${segments
      .map((s) => s.replace(/^\/+|\/+$/g, ''))
      .filter(Boolean)
      .join('/')}`;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    const scope = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
    const tls = await this.props.target.tls();
    const body = new URLSearchParams({
      client_id: this.props.clientId,
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: this.props.assertion(),
      scope,
    }).toString();
    const signal = options.abortSignal;
    return withRetries(() => this.send(body, tls, signal), {
      maxRetries: this.props.maxRetries ?? 3,
      baseDelayMs: this.props.retryBaseDelayMs ?? 800,
      classify: classifyProxyError,
      signal,
    });
  }

  private send(
    body: string,
    tls: { serverName: string; ca?: string },
    signal: AbortSignal | undefined,
  ): Promise<AccessToken> {
    const target = this.props.target.url;
    const authority = new URL(this.props.authorityHost);
    const where = `the AKS token proxy ${target.origin}${target.pathname === '/' ? '' : target.pathname}`;
    return new Promise<AccessToken>((resolve, reject) => {
      const request = https.request(
        {
          host: target.hostname.replace(/^\[|\]$/g, ''),
          port: target.port || 443,
          method: 'POST',
          path: this.tokenPath(),
          servername: tls.serverName,
          ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
          agent: this.props.agent ?? sharedAgent,
          signal,
          timeout: this.props.attemptTimeoutMs ?? 30_000,
          headers: {
            host: authority.host,
            'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            accept: 'application/json',
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              response.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', (err) =>
            reject(
              new TokenProxyRequestError(
                `ClientAssertionCredential authentication failed: ${where} answered: ${err.message}`,
                undefined,
              ),
            ),
          );
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const parsed = parseJson(Buffer.concat(chunks).toString('utf8'));
            if (status === 200 && typeof parsed?.access_token === 'string' && parsed.access_token !== '') {
              resolve(accessToken(parsed));
              return;
            }
            const detail =
              typeof parsed?.error_description === 'string'
                ? `${typeof parsed.error === 'string' ? `${parsed.error}: ` : ''}${firstLine(parsed.error_description)}`
                : status === 200
                  ? 'no access_token in the answer'
                  : `${response.statusMessage ?? ''}`.trim() || 'no error description';
            reject(
              new TokenProxyRequestError(
                `ClientAssertionCredential authentication failed: ${where} answered ${status}: ${detail}`,
                status,
                parseRetryAfter(response.headers['retry-after'] as string | undefined),
              ),
            );
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', (err: NodeJS.ErrnoException) => {
        if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : err);
        const hint =
          err.code && TLS_TRUST_CODES.has(err.code)
            ? ` (the proxy's certificate must be valid for the TLS server name ${tls.serverName} and signed by the cluster CA; check --sni-name, --token-proxy-url and the service-account ca.crt)`
            : '';
        reject(
          new TokenProxyRequestError(
            `ClientAssertionCredential authentication failed: ${where} (TLS server name ${tls.serverName}) could not be reached: ${err.message}${hint}`,
            undefined,
            undefined,
            err.code,
          ),
        );
      });
      request.end(body);
    });
  }
}

function classifyProxyError(err: unknown): RetryDecision {
  if (!(err instanceof TokenProxyRequestError)) return { retryable: false };
  const status = err.status;
  if (status === 429) return { retryable: true, reason: 'throttled', retryAfterMs: err.retryAfterMs };
  if (status === 408 || status === 500 || status === 502 || status === 503 || status === 504)
    return { retryable: true, reason: 'server_error', retryAfterMs: err.retryAfterMs };
  if (status === undefined && err.networkCode !== undefined && !TLS_TRUST_CODES.has(err.networkCode))
    return { retryable: true, reason: 'network' };
  return { retryable: false };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0];
}

/** Entra ID's token answer as an AccessToken (expires_in / refresh_in are seconds from now). */
function accessToken(answer: Record<string, unknown>): AccessToken {
  const now = Date.now();
  const seconds = (value: unknown) =>
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  const expiresIn = seconds(answer.expires_in);
  const refreshIn = seconds(answer.refresh_in);
  return {
    token: answer.access_token as string,
    expiresOnTimestamp: now + (Number.isFinite(expiresIn) ? expiresIn : 0) * 1000,
    ...(Number.isFinite(refreshIn) ? { refreshAfterTimestamp: now + refreshIn * 1000 } : {}),
  };
}
