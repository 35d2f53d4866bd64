// Label values of the driver's metrics, bounded (DESIGN §4, §5.5): /metrics on :8095 is readable by any
// pod that can reach the node, and a label value a pod author chooses would both leak it and grow the
// series without end. The label names stay upstream's; their values come from closed sets:
// - `provider`: '' or a provider whose socket exists on this node (the administrator installs those),
//   else `unknown` (a pod's `providerName` attribute or an SPC's `provider` are free text);
// - `error_type`: the driver's own reasons, or a provider's Error.code when it is a short identifier and
//   one of the first few distinct codes seen, else `ProviderError` (never free-form error text).
import { DRIVER_REASONS, ErrorReason } from '../error-reasons';

/** Distinct provider error codes that get a label value of their own. */
const MAX_PROVIDER_CODES = 32;
const PROVIDER_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Options of the MetricLabels. */
export interface MetricLabelsProps {
  /** True when `<dir>/<provider>.sock` exists in one of the provider directories. */
  readonly isInstalledProvider: (provider: string) => boolean;
}

export class MetricLabels {
  private readonly providers = new Set<string>();
  private readonly providerCodes = new Set<string>();

  constructor(private readonly props: MetricLabelsProps) {}

  /** The `provider` value for `name`. */
  provider(name: string): string {
    if (name === '' || this.providers.has(name)) return name;
    if (!this.props.isInstalledProvider(name)) return 'unknown';
    this.providers.add(name); // bounded by the socket files the administrator put on the node
    return name;
  }

  /** The `error_type` value for a failure's reason. */
  errorType(reason: string): string {
    if (DRIVER_REASONS.has(reason) || this.providerCodes.has(reason)) return reason;
    if (!PROVIDER_CODE.test(reason) || this.providerCodes.size >= MAX_PROVIDER_CODES)
      return ErrorReason.ProviderError;
    this.providerCodes.add(reason);
    return reason;
  }
}
