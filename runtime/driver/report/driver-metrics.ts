// The driver's Prometheus metrics, with the names and labels real clusters export from the upstream
// driver today (DESIGN §4), in their own registry served on --metrics-addr.
import { Counter, Histogram, Registry } from '../../common/metrics/prom-core';

/** Go's runtime.GOOS, the value upstream puts in `os_type`. */
export const OS_TYPE = process.platform === 'win32' ? 'windows' : process.platform;

/** Upstream's histogram buckets: ExponentialBucketsRange(0.1, 2, 11). */
export const DURATION_BUCKETS = Array.from({ length: 11 }, (_, i) => 0.1 * Math.pow(20, i / 10));

export class DriverMetrics {
  readonly registry = new Registry();
  readonly nodePublish: Counter<'os_type' | 'provider'>;
  readonly nodePublishError: Counter<'os_type' | 'provider' | 'error_type'>;
  readonly nodeUnpublish: Counter<'os_type'>;
  readonly nodeUnpublishError: Counter<'os_type'>;
  readonly rotationReconcile: Counter<'os_type' | 'provider' | 'rotated'>;
  readonly rotationReconcileError: Counter<'os_type' | 'provider' | 'rotated' | 'error_type'>;
  readonly rotationReconcileDuration: Histogram<'os_type'>;

  constructor() {
    const registers = [this.registry];
    this.nodePublish = new Counter({
      name: 'node_publish_total',
      help: 'Successful NodePublishVolume calls',
      labelNames: ['os_type', 'provider'],
      registers,
    });
    this.nodePublishError = new Counter({
      name: 'node_publish_error_total',
      help: 'Failed NodePublishVolume calls (including failed remounts that kept the old content)',
      labelNames: ['os_type', 'provider', 'error_type'],
      registers,
    });
    this.nodeUnpublish = new Counter({
      name: 'node_unpublish_total',
      help: 'Successful NodeUnpublishVolume calls',
      labelNames: ['os_type'],
      registers,
    });
    this.nodeUnpublishError = new Counter({
      name: 'node_unpublish_error_total',
      help: 'Failed NodeUnpublishVolume calls',
      labelNames: ['os_type'],
      registers,
    });
    this.rotationReconcile = new Counter({
      name: 'rotation_reconcile_total',
      help: 'Remounts that called the provider; rotated="true" when the content changed',
      labelNames: ['os_type', 'provider', 'rotated'],
      registers,
    });
    this.rotationReconcileError = new Counter({
      name: 'rotation_reconcile_error_total',
      help: 'Remounts whose provider call or write failed (the old content was kept)',
      labelNames: ['os_type', 'provider', 'rotated', 'error_type'],
      registers,
    });
    this.rotationReconcileDuration = new Histogram({
      name: 'rotation_reconcile_duration_sec',
      help: 'Duration of remounts that called the provider, in seconds',
      labelNames: ['os_type'],
      buckets: DURATION_BUCKETS,
      registers,
    });
  }
}
