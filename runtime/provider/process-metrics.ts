// The process metrics of the provider's /metrics: the names Go's process collector gives upstream's
// provider (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_heap_bytes, process_start_time_seconds, process_open_fds, process_max_fds), from prom-client's
// own modules. Its collectDefaultMetrics also loads the nodejs_* set (event loop, GC, heap spaces,
// handles) with perf_hooks and v8 observers: ~12 MiB more RSS on Node 24 in every provider pod
// (bench/provider, issue 14), for metrics no upstream dashboard reads. The CPU counters are our own:
// prom-client's processCpuTotal loads @opentelemetry/api (44 files, ~2 MiB RSS) for exemplars we never enable.
import { Counter, Registry } from '../common/metrics/prom-core';

type MetricModule = (registry: Registry, config?: object) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- prom-client's per-metric modules, without its index */
const PROCESS_METRICS: readonly MetricModule[] = [
  registerCpuCounters,
  require('prom-client/lib/metrics/processStartTime') as MetricModule,
  require('prom-client/lib/metrics/osMemoryHeap') as MetricModule,
  require('prom-client/lib/metrics/processOpenFileDescriptors') as MetricModule,
  require('prom-client/lib/metrics/processMaxFileDescriptors') as MetricModule,
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** process_cpu_{user,system,}_seconds_total as prom-client's processCpuTotal gives them (no exemplars). */
function registerCpuCounters(registry: Registry): void {
  let last = process.cpuUsage();
  const counter = (name: string, help: string, collect?: () => void) =>
    new Counter({ name, help, registers: [registry], ...(collect ? { collect } : {}) });
  // The first counter's collect sets all three, once per scrape.
  const user = counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => {
    const now = process.cpuUsage();
    const userMicros = now.user - last.user;
    const systemMicros = now.system - last.system;
    last = now;
    user.inc(userMicros / 1e6);
    system.inc(systemMicros / 1e6);
    total.inc((userMicros + systemMicros) / 1e6);
  });
  const system = counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.');
  const total = counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.');
}

export function registerProcessMetrics(registry: Registry): void {
  for (const register of PROCESS_METRICS) register(registry, {});
}
