// The provider's Prometheus metrics: the two upstream histograms (names, labels and buckets as real
// clusters scrape them) plus our request-economy counters. Any pod can read /metrics (the provider
// runs on the host network), so every label value comes from a closed list: `error` and
// `grpc_message` carry a MountFailureReason instead of error text (which echoes caller input and
// Key Vault answers), and `object_name` is always empty (object names are caller-chosen: unbounded,
// and other tenants' business). The label names stay upstream's, so dashboards keep working.
import { Counter, Histogram, Registry } from '../common/metrics/prom-core';
import { registerProcessMetrics } from './process-metrics';
import type { MountFailureReason } from './mount-failure';

/** `grpc_message` of a failed call: why a Mount failed, or that a method is not implemented. */
export type GrpcFailureLabel = MountFailureReason | 'unimplemented';

const UPSTREAM_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10, 15, 30];

/** Go's GOOS for the os_type label. */
export function goOs(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

export class ProviderMetrics {
  readonly registry = new Registry();
  private readonly keyvaultRequest: Histogram<
    'os_type' | 'provider' | 'object_name' | 'object_type' | 'error'
  >;
  private readonly grpcRequest: Histogram<
    'os_type' | 'provider' | 'grpc_method' | 'grpc_code' | 'grpc_message'
  >;
  readonly cacheRequests: Counter<'result'>;
  readonly keyvaultRetries: Counter<'reason'>;
  readonly rateLimitWaits: Counter<'priority'>;
  readonly tokenRequests: Counter<'identity_type'>;
  private readonly common = { os_type: goOs(), provider: 'azure' };

  constructor() {
    registerProcessMetrics(this.registry);
    this.keyvaultRequest = new Histogram({
      name: 'keyvault_request',
      help: 'Distribution of how long it took to get from keyvault',
      labelNames: ['os_type', 'provider', 'object_name', 'object_type', 'error'],
      buckets: UPSTREAM_BUCKETS,
      registers: [this.registry],
    });
    this.grpcRequest = new Histogram({
      name: 'grpc_request',
      help: 'Distribution of how long it took for the gRPC requests',
      labelNames: ['os_type', 'provider', 'grpc_method', 'grpc_code', 'grpc_message'],
      buckets: UPSTREAM_BUCKETS,
      registers: [this.registry],
    });
    this.cacheRequests = new Counter({
      name: 'keyvault_cache_requests_total',
      help: 'Key Vault object lookups by outcome: hit (served from the identity-scoped cache), shared (joined an in-flight call), miss (called Key Vault)',
      labelNames: ['result'],
      registers: [this.registry],
    });
    this.keyvaultRetries = new Counter({
      name: 'keyvault_retries_total',
      help: 'Key Vault calls retried, by reason (throttled = 429, server_error, timeout, network)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.rateLimitWaits = new Counter({
      name: 'keyvault_rate_limit_waits_total',
      help: "Key Vault calls that waited for the vault's client-side token bucket, by priority (mount before rotation)",
      labelNames: ['priority'],
      registers: [this.registry],
    });
    this.tokenRequests = new Counter({
      name: 'token_requests_total',
      help: 'Access-token requests sent to the identity endpoint (Entra ID, IMDS or NMI), by identity type; reused tokens are not counted',
      labelNames: ['identity_type'],
      registers: [this.registry],
    });
  }

  /** One Key Vault call; `objectType` is one of secret, key, cert (checked before any call). */
  observeKeyVaultRequest(seconds: number, objectType: string, failure: MountFailureReason | ''): void {
    this.keyvaultRequest.observe(
      { ...this.common, object_type: objectType, object_name: '', error: failure },
      seconds,
    );
  }

  /** One gRPC call; `method` and `code` come from fixed lists, `failure` is '' on success. */
  observeGrpcRequest(seconds: number, method: string, code: string, failure: GrpcFailureLabel | ''): void {
    this.grpcRequest.observe(
      { ...this.common, grpc_method: method, grpc_code: code, grpc_message: failure },
      seconds,
    );
  }
}
