// The admission gate's metrics (mount_admission_waiting, mount_admissions_total{kind},
// mount_admission_wait_seconds{outcome}) after a scripted sequence on jest's fake clock, and the
// hostile case: 1,000 namespaces through the gate make no more series than one, and no namespace
// reaches /metrics.
import { Registry } from '../../../runtime/common/metrics/prom-core';
import { AdmissionWaitEnded, MountAdmission } from '../../../runtime/provider/mount-admission';
import { mountAdmissionMetrics } from '../../../runtime/provider/mount-admission-metrics';
import { MountDeadlineError } from '../../../runtime/provider/mount-deadline';
import { counterValue } from './support/spawned-provider';

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

let gates: MountAdmission[] = [];

/** A gate whose observer is the provider's metrics on a fresh registry. */
function meteredGate(props: { slots?: number; maxWaiting?: number } = {}) {
  const registry = new Registry();
  const g: MountAdmission = new MountAdmission({
    slots: 1,
    leaseMs: 1000,
    tickMs: 0,
    now: () => Date.now(),
    ...props,
    observer: mountAdmissionMetrics(registry, () => g.waiting),
  });
  gates.push(g);
  return { g, scrape: () => registry.metrics() };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  for (const g of gates) g.close();
  gates = [];
  jest.useRealTimers();
});

describe('mount admission metrics', () => {
  it('every series is there at zero before the first Mount', async () => {
    const { scrape } = meteredGate();
    const text = await scrape();
    expect(counterValue(text, 'mount_admission_waiting')).toBe(0);
    for (const kind of ['immediate', 'queued', 'spare_cpu', 'lease', 'overflow', 'off'])
      expect(text).toContain(`mount_admissions_total{kind="${kind}"} 0`);
    for (const outcome of ['admitted', 'deadline', 'cancelled'])
      expect(text).toContain(`mount_admission_wait_seconds_count{outcome="${outcome}"} 0`);
  });

  it('count each turn by kind, the Mounts waiting now, and each wait by outcome', async () => {
    const { g, scrape } = meteredGate({ slots: 1, maxWaiting: 4 });
    const held = new Map<string, { release(): void }>();
    const errors = new Map<string, unknown>();
    const deadline = new AbortController();
    const cancel = new AbortController();
    const admit = (name: string, signal?: AbortSignal) =>
      g.admit(`ns-${name}`, signal).then(
        (a) => held.set(name, a),
        (err: unknown) => errors.set(name, err),
      );
    // t=0: a runs; b, c, d, e wait (the bound: 4); f goes ahead unqueued.
    for (const [name, signal] of [
      ['a'],
      ['b'],
      ['c'],
      ['d', deadline.signal],
      ['e', cancel.signal],
      ['f'],
    ] as Array<[string, AbortSignal?]>)
      void admit(name, signal);
    await flush();
    let text = await scrape();
    expect(counterValue(text, 'mount_admission_waiting')).toBe(4);
    expect(counterValue(text, 'mount_admissions_total', { kind: 'immediate' })).toBe(1);
    expect(counterValue(text, 'mount_admissions_total', { kind: 'overflow' })).toBe(1);
    // t=300 ms: d's deadline; t=400 ms: e's driver cancels.
    jest.advanceTimersByTime(300);
    deadline.abort(new MountDeadlineError(5000, 1000));
    jest.advanceTimersByTime(100);
    cancel.abort(new Error('the driver cancelled the Mount call'));
    await flush();
    expect((errors.get('d') as AdmissionWaitEnded).ahead).toBe(2);
    // t=500 ms: a is done, b's turn; t=1500 ms: b outlives its lease, c's turn.
    jest.advanceTimersByTime(100);
    held.get('a')!.release();
    await flush();
    jest.advanceTimersByTime(1000);
    await flush();
    expect([...held.keys()]).toEqual(['a', 'f', 'b', 'c']);
    text = await scrape();
    expect(counterValue(text, 'mount_admission_waiting')).toBe(0);
    const kinds = ['immediate', 'queued', 'spare_cpu', 'lease', 'overflow', 'off'].map((kind) =>
      counterValue(text, 'mount_admissions_total', { kind }),
    );
    expect(kinds).toEqual([1, 1, 0, 1, 1, 0]);
    const wait = (suffix: string, labels: Record<string, string>) =>
      counterValue(text, `mount_admission_wait_seconds_${suffix}`, labels);
    // Admitted: a and f at 0, b after 0.5 s, c after 1.5 s.
    expect(wait('count', { outcome: 'admitted' })).toBe(4);
    expect(wait('sum', { outcome: 'admitted' })).toBeCloseTo(2.0, 6);
    expect(
      ['0.001', '0.25', '0.5', '1', '2.5'].map((le) => wait('bucket', { outcome: 'admitted', le })),
    ).toEqual([2, 2, 3, 3, 4]);
    // Never started: d after 0.3 s (deadline), e after 0.4 s (cancelled).
    expect([wait('count', { outcome: 'deadline' }), wait('sum', { outcome: 'deadline' })]).toEqual([1, 0.3]);
    expect([wait('count', { outcome: 'cancelled' }), wait('sum', { outcome: 'cancelled' })]).toEqual([
      1, 0.4,
    ]);
    expect(wait('bucket', { outcome: 'deadline', le: '0.25' })).toBe(0);
    expect(wait('bucket', { outcome: 'deadline', le: '0.5' })).toBe(1);
  });

  it('the gate off counts every Mount as off, with no wait', async () => {
    const { g, scrape } = meteredGate({ slots: 0 });
    await Promise.all([g.admit('ns'), g.admit('ns')]);
    const text = await scrape();
    expect(counterValue(text, 'mount_admissions_total', { kind: 'off' })).toBe(2);
    expect(
      counterValue(text, 'mount_admission_wait_seconds_bucket', { outcome: 'admitted', le: '0.001' }),
    ).toBe(2);
  });

  it('hostile: 1,000 namespaces through the gate make the same series as one, and no namespace is exported', async () => {
    const run = async (namespaces: number) => {
      const { g, scrape } = meteredGate({ slots: 2, maxWaiting: 2000 });
      const held: Array<{ release(): void }> = [];
      const enders: AbortController[] = [];
      for (let i = 0; i < 1000; i++) {
        const controller = new AbortController();
        enders.push(controller);
        void g.admit(`tenant-${i % namespaces}-x`, controller.signal).then(
          (a) => held.push(a),
          () => undefined,
        );
      }
      await flush();
      // A third of them give up (deadline, then cancel), the rest get their turns.
      for (let i = 2; i < 1000; i += 3)
        enders[i].abort(i % 2 ? new MountDeadlineError(1000, 200) : new Error('cancelled'));
      jest.advanceTimersByTime(100);
      while (g.waiting > 0 || held.length > 0) {
        held.shift()?.release();
        await flush();
      }
      return scrape();
    };
    const series = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const one = await run(1);
    const many = await run(1000);
    expect(series(many)).toHaveLength(series(one).length);
    expect(series(many).map((l) => l.replace(/ \S+$/, ''))).toEqual(
      series(one).map((l) => l.replace(/ \S+$/, '')),
    );
    expect(many).not.toContain('tenant-');
    expect(counterValue(many, 'mount_admissions_total')).toBe(1000 - 333);
    expect(
      counterValue(many, 'mount_admission_wait_seconds_count', { outcome: 'deadline' }) +
        counterValue(many, 'mount_admission_wait_seconds_count', { outcome: 'cancelled' }),
    ).toBe(333);
    // As the closed lists give: the gauge, 6 kinds, 3 outcomes × (15 buckets, +Inf, sum, count).
    expect(series(many)).toHaveLength(1 + 6 + 3 * (15 + 1 + 2));
  });
});
