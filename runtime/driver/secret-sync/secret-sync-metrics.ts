// Upstream declares sync_k8s_secret_total and the sync duration histogram but never records them
// (reference/upstream-driver.md §6); ours are recorded on every sync, in the driver's own registry.
import { Counter, Histogram, Registry } from '../../common/metrics/prom-core';
import { DURATION_BUCKETS, OS_TYPE } from '../report/driver-metrics';

/** The two sync metrics of DESIGN §4, registered into a given registry (the one served on --metrics-addr). */
export class SecretSyncMetrics {
  /** Secrets synced (created, updated or confirmed current), by provider. */
  readonly syncTotal: Counter<'os_type' | 'provider'>;
  /** Duration of one sync pass over an SPC's secretObjects, in seconds. */
  readonly syncDuration: Histogram<'os_type'>;

  /** `providerLabel` bounds the `provider` values (report/metric-labels.ts). @default the name as given */
  constructor(
    registry: Registry,
    private readonly providerLabel: (provider: string) => string = (provider) => provider,
  ) {
    this.syncTotal = new Counter({
      name: 'sync_k8s_secret_total',
      help: 'Kubernetes Secrets synced from mounted content (created, updated or confirmed current)',
      labelNames: ['os_type', 'provider'],
      registers: [registry],
    });
    this.syncDuration = new Histogram({
      name: 'sync_k8s_secret_duration_sec',
      help: 'Duration of syncing the Kubernetes Secrets of one mounted volume, in seconds',
      labelNames: ['os_type'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  /** One Secret synced for `provider`'s volume. */
  countSynced(provider: string): void {
    this.syncTotal.inc({ os_type: OS_TYPE, provider: this.providerLabel(provider) });
  }
}
