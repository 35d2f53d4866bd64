// Errors of NodePublishVolume carry the gRPC code kubelet sees and the reason used as the metric's
// `error_type` label. Texts and codes are upstream's: argument errors are InvalidArgument, everything
// else reaches kubelet as Unknown with the message (what `kubectl describe pod` shows under FailedMount).
import { status } from '@grpc/grpc-js';
import { ErrorReason } from '../error-reasons';

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

  /** `err` as a PublishError: kept when it is one, else Unknown with its own reason or `fallbackReason`. */
  static from(err: unknown, fallbackReason: string): PublishError {
    if (err instanceof PublishError) return err;
    const reason = (err as { reason?: string }).reason ?? fallbackReason;
    return PublishError.unknown(err instanceof Error ? err.message : String(err), reason);
  }

  /** Upstream's wrapping of an inner failure: `<context>, err: <inner text>`, keeping the inner reason. */
  static wrap(context: string, err: unknown, fallbackReason: string): PublishError {
    const reason = (err as { reason?: string }).reason ?? fallbackReason;
    return PublishError.unknown(`${context}, err: ${(err as Error).message}`, reason);
  }
}
