// The provider's Prometheus metrics: the two upstream histograms (names, labels and buckets as real
// clusters scrape them) plus our request-economy counters. Label values never carry secrets: the
// error text passes the redactor.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { defaultRedactor, Redactor } from '../common/redaction';

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

  constructor(private readonly redactor: Redactor = defaultRedactor) {
    collectDefaultMetrics({ register: this.registry });
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

  observeKeyVaultRequest(seconds: number, objectType: string, objectName: string, error: string): void {
    this.keyvaultRequest.observe(
      {
        ...this.common,
        object_type: objectType,
        object_name: objectName,
        error: this.redactor.redactString(error),
      },
      seconds,
    );
  }

  observeGrpcRequest(seconds: number, method: string, code: string, message: string): void {
    this.grpcRequest.observe(
      {
        ...this.common,
        grpc_method: method,
        grpc_code: code,
        grpc_message: this.redactor.redactString(message),
      },
      seconds,
    );
  }
}
