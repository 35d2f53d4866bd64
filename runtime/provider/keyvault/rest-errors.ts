// Classification and wording of Key Vault call failures: what is retried, and an error text that
// says what happened (status, Key Vault error code and message) without echoing any secret.
import { IdentityTokenError } from '../identity/caching-credential';
import { KeyVaultRestError } from './key-vault-rest';
import type { MountFailureReason } from '../mount-failure';
import type { RetryDecision } from './retry';
import { parseRetryAfter } from './retry';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'REQUEST_SEND_ERROR',
  'ENOTFOUND',
]);

const isRestError = (err: unknown): err is KeyVaultRestError => err instanceof KeyVaultRestError;

/** Thrown when one attempt exceeded the per-request timeout. */
export class KeyVaultTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Key Vault did not answer within ${timeoutMs} ms`);
    this.name = 'KeyVaultTimeoutError';
  }
}

export function classifyKeyVaultError(err: unknown): RetryDecision {
  if (err instanceof KeyVaultTimeoutError) return { retryable: true, reason: 'timeout' };
  if (isRestError(err)) {
    const status = err.statusCode;
    if (status === 429)
      return {
        retryable: true,
        reason: 'throttled',
        retryAfterMs: parseRetryAfter(err.retryAfter),
      };
    if (status === 408 || (status !== undefined && status >= 500 && status !== 501 && status !== 505)) {
      return {
        retryable: true,
        reason: 'server_error',
        retryAfterMs: parseRetryAfter(err.retryAfter),
      };
    }
    if (
      status === undefined &&
      err.code !== undefined &&
      NETWORK_CODES.has(err.code) &&
      err.code !== 'ENOTFOUND'
    ) {
      return { retryable: true, reason: 'network' };
    }
  }
  return { retryable: false };
}

/** A one-line description of a failed Key Vault call. */
export function describeKeyVaultError(err: unknown): string {
  if (err instanceof KeyVaultTimeoutError) return err.message;
  if (isRestError(err)) {
    if (err.statusCode !== undefined) {
      const code = err.code ? ` ${err.code}` : '';
      const hint =
        err.statusCode === 403
          ? ' (check the identity has a Key Vault role or access policy for this object type, and the vault firewall)'
          : err.statusCode === 404
            ? ' (check the object name, type and version)'
            : '';
      return `Key Vault returned ${err.statusCode}${code}: ${err.message}${hint}`;
    }
    return `Key Vault request failed: ${err.code ? `${err.code} ` : ''}${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The bounded reason of a failed Key Vault call (a metric label value: never the error text). */
export function keyVaultFailureReason(err: unknown): MountFailureReason {
  if (err instanceof IdentityTokenError) return 'identity';
  if (err instanceof KeyVaultTimeoutError) return 'keyvault_timeout';
  if (isRestError(err)) {
    const status = err.statusCode;
    if (status === 401) return 'keyvault_unauthorized';
    if (status === 403) return 'keyvault_forbidden';
    if (status === 404) return 'keyvault_not_found';
    if (status === 429) return 'keyvault_throttled';
    if (status === 408 || (status !== undefined && status >= 500)) return 'keyvault_server_error';
    if (status === undefined && err.code !== undefined && NETWORK_CODES.has(err.code))
      return 'keyvault_network';
  }
  return 'keyvault_error';
}
