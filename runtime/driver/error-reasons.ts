// The driver's failure reasons: upstream's error_type values (reference §2.3, pkg/errors), the one
// vocabulary the node server, the provider client, the SPCPS checks and the metrics share. A provider's
// own Error.code travels as the reason verbatim, as upstream.

/** Upstream's error reasons (metric label `error_type`) and the ones we add. */
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
  /** Ours: a service-account token arrived and the driver's CSIDriver is not known yet. */
  TokenPolicyUnknown: 'TokenPolicyUnknown',
} as const;

/** Every reason the driver itself produces (a provider's Error.code comes on top, bounded: report/). */
export const DRIVER_REASONS: ReadonlySet<string> = new Set(Object.values(ErrorReason));

/**
 * An error that carries its own reason, so the publish path can keep it when it wraps the text, and the
 * failure it stands for (`cause`), so the gRPC code can say whether a retry may help.
 */
export class ReasonedError extends Error {
  constructor(
    message: string,
    public readonly reason: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ReasonedError';
  }
}
