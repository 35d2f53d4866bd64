// The process metrics of the provider's /metrics: the names Go's process collector gives upstream's
// provider (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_heap_bytes, process_start_time_seconds, process_open_fds, process_max_fds), from prom-client's
// own modules. Its collectDefaultMetrics also loads the nodejs_* set (event loop, GC, heap spaces,
// handles) with perf_hooks and v8 observers: ~12 MiB more RSS on Node 24 in every provider pod
// (bench/provider, issue 14), for metrics no upstream dashboard reads.
import type { Registry } from '../common/metrics/prom-core';

type MetricModule = (registry: Registry, config?: object) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- prom-client's per-metric modules, without its index */
const PROCESS_METRICS: readonly MetricModule[] = [
  require('prom-client/lib/metrics/processCpuTotal') as MetricModule,
  require('prom-client/lib/metrics/processStartTime') as MetricModule,
  require('prom-client/lib/metrics/osMemoryHeap') as MetricModule,
  require('prom-client/lib/metrics/processOpenFileDescriptors') as MetricModule,
  require('prom-client/lib/metrics/processMaxFileDescriptors') as MetricModule,
];
/* eslint-enable @typescript-eslint/no-require-imports */

export function registerProcessMetrics(registry: Registry): void {
  for (const register of PROCESS_METRICS) register(registry, {});
}
