// The Mount admission gate on the provider's /metrics (ours: upstream has no gate). Labels come from
// closed lists only (`kind` an AdmissionKind, `outcome` one of three): never a namespace, pod or vault,
// so 1,000 namespaces make no more series than one. Nothing is kept per Mount; the gauge is read from
// the gate at scrape time.
import { Counter, Gauge, Histogram, Registry } from '../common/metrics/prom-core';
import type { AdmissionKind, AdmissionWaitEnded, MountAdmissionObserver } from './mount-admission';
import { MountDeadlineError } from './mount-deadline';

const KINDS: readonly AdmissionKind[] = ['immediate', 'queued', 'spare_cpu', 'lease', 'overflow', 'off'];

/** How a Mount's wait ended: it got its turn, or its call ended first (deadline or cancel). */
export type AdmissionWaitOutcome = 'admitted' | 'deadline' | 'cancelled';
const OUTCOMES: readonly AdmissionWaitOutcome[] = ['admitted', 'deadline', 'cancelled'];

/** 1 ms to 60 s: an idle gate's turns (0), a tick or two of spare CPU (50 ms), a throttled burst (s). */
export const ADMISSION_WAIT_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60,
];

/** Registers the gate's metrics on `registry`; `waiting` is read at each scrape. */
export function mountAdmissionMetrics(registry: Registry, waiting: () => number): MountAdmissionObserver {
  const registers = [registry];
  new Gauge({
    name: 'mount_admission_waiting',
    help: "Mounts waiting now for their turn in the provider's admission gate (--mount-admission-slots); above 0 for long: the provider is short of CPU",
    registers,
    collect() {
      this.set(waiting());
    },
  });
  const admissions = new Counter<'kind'>({
    name: 'mount_admissions_total',
    help: 'Mounts that got their turn, by how: immediate (a slot was free), queued (a slot was released), spare_cpu (the process was idle), lease (a slot holder ran past --mount-admission-lease), overflow (more than 1000 waiting), off (--mount-admission-slots=0)',
    labelNames: ['kind'],
    registers,
  });
  const wait = new Histogram<'outcome'>({
    name: 'mount_admission_wait_seconds',
    help: 'Time a Mount waited for its turn, by outcome: admitted (0 when it did not wait), deadline or cancelled (its call ended while it waited: it never started)',
    labelNames: ['outcome'],
    buckets: ADMISSION_WAIT_BUCKETS,
    registers,
  });
  // Every series from the start, so a dashboard's rate() has a baseline before the first burst.
  for (const kind of KINDS) admissions.inc({ kind }, 0);
  for (const outcome of OUTCOMES) wait.zero({ outcome });
  return {
    admitted(kind, waitedMs) {
      admissions.inc({ kind });
      wait.observe({ outcome: 'admitted' }, waitedMs / 1000);
    },
    abandoned(ended: AdmissionWaitEnded) {
      const outcome = ended.cause instanceof MountDeadlineError ? 'deadline' : 'cancelled';
      wait.observe({ outcome }, ended.waitedMs / 1000);
    },
  };
}
