// Errors of NodePublishVolume carry the gRPC code kubelet sees and the reason used as the metric's
// `error_type` label. Texts and codes are upstream's: argument errors are InvalidArgument, everything
// else reaches kubelet as Unknown with the message (what `kubectl describe pod` shows under FailedMount).
import { status } from '@grpc/grpc-js';

/** Upstream's error reasons (metric label `error_type`); a provider's own Error.code is used verbatim. */
export const ErrorReason = {
  FailedToEnsureMountPoint: 'FailedToEnsureMountPoint',
  ProviderError: 'ProviderError',
  FailedToMount: 'FailedToMount',
  SecretProviderClassNotFound: 'SecretProviderClassNotFound',
  FailedToLookupProviderGRPCClient: 'FailedToLookupProviderGRPCClient',
  GRPCProviderError: 'GRPCProviderError',
  FailedToRotate: 'FailedToRotate',
  PodNotFound: 'PodNotFound',
  UnexpectedTargetPath: 'UnexpectedTargetPath',
  PodVolumeNotFound: 'PodVolumeNotFound',
  FileWriteError: 'FileWriteError',
  FailedToCreatePodStatus: 'FailedToCreatePodStatus',
  InvalidArgument: 'InvalidArgument',
} as const;

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
}

/** An error that carries its own reason (provider client errors), so the publish path can keep it. */
export class ReasonedError extends Error {
  constructor(
    message: string,
    public readonly reason: string,
  ) {
    super(message);
    this.name = 'ReasonedError';
  }
}

/** The Go-style text of a gRPC error, as upstream passes it through: `rpc error: code = X desc = Y`. */
export function goGrpcErrorText(code: number, details: string): string {
  const name = (status[code] ?? 'Unknown')
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  const goName = name === 'Ok' ? 'OK' : name;
  return `rpc error: code = ${goName} desc = ${details}`;
}
