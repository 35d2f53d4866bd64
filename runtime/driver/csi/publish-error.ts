// Errors of NodePublishVolume carry the gRPC code kubelet sees and the reason used as the metric's
// `error_type` label. Texts and codes are upstream's: argument errors are InvalidArgument, everything
// else reaches kubelet as Unknown with the message (what `kubectl describe pod` shows under FailedMount).
// Ours: a failure because the Kubernetes API server cannot answer is Unavailable, and its text says so.
import { status } from '@grpc/grpc-js';
import { isApiUnavailable } from '../cluster/kube/kube-api-error';
import { ErrorReason } from '../error-reasons';

/** What kubelet's FailedMount shows after the text of an API-server outage. */
export const API_UNAVAILABLE_HINT =
  'the Kubernetes API server is unreachable or overloaded; nothing is wrong with the volume, and kubelet retries the mount until the API server answers';

export class PublishError extends Error {
  constructor(
    message: string,
    /** gRPC status code returned to kubelet. */
    public readonly code: status,
    /** Metric label `error_type`. */
    public readonly reason: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }

  static invalidArgument(message: string): PublishError {
    return new PublishError(message, status.INVALID_ARGUMENT, ErrorReason.InvalidArgument);
  }

  static unknown(message: string, reason: string): PublishError {
    return new PublishError(message, status.UNKNOWN, reason);
  }

  static internal(message: string, reason: string): PublishError {
    return new PublishError(message, status.INTERNAL, reason);
  }

  /**
   * Upstream's Unknown error with `message`, unless `cause` is the API server failing to answer: then
   * Unavailable, with the text saying so (kubelet retries either way; an operator reads the difference).
   */
  static fromCause(message: string, reason: string, cause: unknown): PublishError {
    if (!causedByApiOutage(cause)) return PublishError.unknown(message, reason);
    return new PublishError(`${message} (${API_UNAVAILABLE_HINT})`, status.UNAVAILABLE, reason);
  }

  /** `err` as a PublishError: kept when it is one, else with its own reason or `fallbackReason`. */
  static from(err: unknown, fallbackReason: string): PublishError {
    if (err instanceof PublishError) return err;
    const reason = (err as { reason?: string }).reason ?? fallbackReason;
    return PublishError.fromCause(err instanceof Error ? err.message : String(err), reason, err);
  }

  /** Upstream's wrapping of an inner failure: `<context>, err: <inner text>`, keeping the inner reason. */
  static wrap(context: string, err: unknown, fallbackReason: string): PublishError {
    const reason = (err as { reason?: string }).reason ?? fallbackReason;
    return PublishError.fromCause(`${context}, err: ${(err as Error).message}`, reason, err);
  }
}

/** True when `err`, or an error it wraps, is the API server not answering (transport error, 429, 5xx). */
function causedByApiOutage(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (isApiUnavailable(e)) return true;
  }
  return false;
}
