// What a failed Mount gives back: the text for the driver (upstream's wrapping, scrubbed with what
// this Mount itself fetched or sent, never with other identities' secrets) and a reason from a
// closed list, which is all that metric labels carry (bounded, and free of caller input).
import type { Redactor } from '../common/logging/redaction';

/** Why a Mount failed; the values of the `grpc_message` and `error` metric labels. */
export type MountFailureReason =
  /** The request or its parameters (attributes, secrets, objects YAML, limits). */
  | 'invalid_request'
  /** Entra ID / IMDS / NMI gave no token. */
  | 'identity'
  | 'keyvault_unauthorized'
  | 'keyvault_forbidden'
  | 'keyvault_not_found'
  | 'keyvault_throttled'
  | 'keyvault_server_error'
  | 'keyvault_timeout'
  | 'keyvault_network'
  | 'keyvault_error'
  /** Key Vault's answer could not be turned into files (PKCS#12, chain, encoding). */
  | 'content'
  | 'response_too_large'
  /** The driver went away (cancelled or deadline passed). */
  | 'cancelled'
  | 'internal';

/**
 * A Mount failure. `wrapped` errors reach the driver as `failed to mount objects, error: <message>`;
 * the request-decoding errors (attributes, secrets, permission JSON) are returned as they are.
 * `reason` is the bounded label metrics record instead of the text.
 */
export class MountRequestError extends Error {
  constructor(
    message: string,
    readonly wrapped = true,
    readonly reason: MountFailureReason = 'invalid_request',
  ) {
    super(message);
    this.name = 'MountRequestError';
  }
}

/** A failed Mount as the driver sees it. */
export class MountFailure extends Error {
  constructor(
    message: string,
    readonly reason: MountFailureReason,
    /** The gRPC status the driver gets. @default UNKNOWN (upstream's for every Mount error) */
    readonly grpcCode?: number,
  ) {
    super(message);
    this.name = 'MountFailure';
  }
}

/** Upstream's text for a Mount error: request-decoding errors as they are, the rest wrapped. */
export function mountErrorText(err: unknown): string {
  if (err instanceof MountRequestError && !err.wrapped) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return `failed to mount objects, error: ${message}`;
}

/**
 * The failure the driver gets for `err`, scrubbed with `scope` (the Mount's own request scope). An
 * echo of caller input therefore reads the same whatever any other identity's secrets are.
 */
export function toMountFailure(err: unknown, scope: Redactor, cancelled: boolean): MountFailure {
  if (err instanceof MountFailure) return err;
  const reason: MountFailureReason = cancelled
    ? 'cancelled'
    : err instanceof MountRequestError
      ? err.reason
      : 'internal';
  return new MountFailure(scope.redactString(mountErrorText(err)), reason);
}
