// MountAdmission: arrival order, the lease that frees a stalled Mount's slot, fairness over
// namespaces (a flooding namespace cannot starve another), the bound on waiting Mounts, cancelled
// waiters, spare CPU. Timers are jest's fake ones: nothing here waits on the wall clock.
import {
  Admission,
  AdmissionWaitEnded,
  MountAdmission,
  MountAdmissionProps,
} from '../../../runtime/provider/mount-admission';

let gates: MountAdmission[] = [];

function gate(props: MountAdmissionProps = {}): MountAdmission {
  const made = new MountAdmission({ slots: 1, leaseMs: 1000, tickMs: 0, now: () => Date.now(), ...props });
  gates.push(made);
  return made;
}

/** Lets settled promises run their callbacks. */
const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** Starts `admit` calls and records the order they are granted in. */
function track(g: MountAdmission, calls: Array<[name: string, tenant: string]>, signal?: AbortSignal) {
  const order: string[] = [];
  const held = new Map<string, Admission>();
  const errors = new Map<string, unknown>();
  for (const [name, tenant] of calls)
    g.admit(tenant, signal).then(
      (admission) => {
        order.push(name);
        held.set(name, admission);
      },
      (err: unknown) => errors.set(name, err),
    );
  return { order, held, errors };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  for (const g of gates) g.close();
  gates = [];
  jest.useRealTimers();
});

describe('MountAdmission', () => {
  it('admits at once while a slot is free, then in arrival order as slots are released', async () => {
    const g = gate({ slots: 2 });
    const { order, held } = track(g, [
      ['a', 'ns'],
      ['b', 'ns'],
      ['c', 'ns'],
      ['d', 'ns'],
      ['e', 'ns'],
    ]);
    await flush();
    expect(order).toEqual(['a', 'b']);
    expect(held.get('a')!.kind).toBe('immediate');
    expect([g.active, g.waiting]).toEqual([2, 3]);
    held.get('b')!.release();
    await flush();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(held.get('c')!.kind).toBe('queued');
    held.get('a')!.release();
    held.get('c')!.release();
    await flush();
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([g.active, g.waiting]).toEqual([2, 0]);
  });

  it('a release is counted once: releasing twice frees one slot only', async () => {
    const g = gate({ slots: 1 });
    const { order, held } = track(g, [
      ['a', 'ns'],
      ['b', 'ns'],
      ['c', 'ns'],
    ]);
    await flush();
    held.get('a')!.release();
    held.get('a')!.release();
    await flush();
    expect(order).toEqual(['a', 'b']);
    expect([g.active, g.waiting]).toEqual([1, 1]);
  });

  it("a Mount that holds its slot past the lease lets the next one go; its late release frees nobody else's slot", async () => {
    const g = gate({ slots: 1, leaseMs: 1000 });
    const { order, held } = track(g, [
      ['stalled', 'slow-tenant'],
      ['next', 'other'],
      ['third', 'other'],
    ]);
    await flush();
    expect(order).toEqual(['stalled']);
    jest.advanceTimersByTime(999);
    await flush();
    expect(order).toEqual(['stalled']);
    jest.advanceTimersByTime(1);
    await flush();
    expect(order).toEqual(['stalled', 'next']);
    expect(held.get('next')!.kind).toBe('lease');
    expect(g.active).toBe(1);
    // The stalled Mount finishes at last: its slot was already handed on.
    held.get('stalled')!.release();
    await flush();
    expect(order).toEqual(['stalled', 'next']);
    expect([g.active, g.waiting]).toEqual([1, 1]);
    held.get('next')!.release();
    await flush();
    expect(order).toEqual(['stalled', 'next', 'third']);
  });

  it('every Mount of a stalled tenant holds one lease at most: a later tenant is not held by all of them', async () => {
    const g = gate({ slots: 1, leaseMs: 1000 });
    const { order } = track(g, [
      ['s1', 'stalled'],
      ['s2', 'stalled'],
      ['s3', 'stalled'],
      ['s4', 'stalled'],
      ['calm', 'calm'],
    ]);
    await flush();
    // Fewest turns first: after s1's lease the calm namespace's only Mount is next, not s2, s3, s4.
    jest.advanceTimersByTime(1000);
    await flush();
    expect(order).toEqual(['s1', 'calm']);
  });

  it('fair over namespaces: a namespace flooding the gate gets every other turn at most while another waits', async () => {
    const g = gate({ slots: 1 });
    const calls: Array<[string, string]> = [];
    for (let i = 0; i < 6; i++) calls.push([`flood-${i}`, 'flood']);
    calls.push(['victim-0', 'victim'], ['victim-1', 'victim']);
    const { order, held } = track(g, calls);
    await flush();
    for (let i = 0; i < 7; i++) {
      held.get(order[order.length - 1])!.release();
      await flush();
    }
    expect(order).toEqual([
      'flood-0',
      'victim-0',
      'flood-1',
      'victim-1',
      'flood-2',
      'flood-3',
      'flood-4',
      'flood-5',
    ]);
  });

  it('beyond maxWaiting a Mount goes ahead unqueued and holds no slot', async () => {
    const g = gate({ slots: 1, maxWaiting: 2 });
    const { order, held } = track(g, [
      ['a', 'ns'],
      ['b', 'ns'],
      ['c', 'ns'],
      ['d', 'ns'],
    ]);
    await flush();
    expect(order).toEqual(['a', 'd']);
    expect(held.get('d')!.kind).toBe('overflow');
    expect([g.active, g.waiting]).toEqual([1, 2]);
    held.get('d')!.release();
    await flush();
    expect([g.active, g.waiting]).toEqual([1, 2]);
  });

  it('a waiting Mount whose call ends leaves the queue with its reason, its wait and what was ahead; the one behind it moves up', async () => {
    const g = gate({ slots: 1 });
    const first = track(g, [['a', 'ns']]);
    const controller = new AbortController();
    const cancelled = track(g, [['b', 'ns']], controller.signal);
    const behind = track(g, [['c', 'ns']]);
    await flush();
    jest.advanceTimersByTime(800); // within a's lease
    const reason = new Error('the driver cancelled the Mount call');
    controller.abort(reason);
    await flush();
    const ended = cancelled.errors.get('b') as AdmissionWaitEnded;
    expect(ended).toBeInstanceOf(AdmissionWaitEnded);
    expect(ended.cause).toBe(reason);
    // a holds the one slot; c arrived after b, so nothing waited ahead of b.
    expect([ended.waitedMs, ended.running, ended.ahead, ended.slots]).toEqual([800, 1, 0, 1]);
    expect(g.waiting).toBe(1);
    first.held.get('a')!.release();
    await flush();
    expect(behind.order).toEqual(['c']);
    expect(cancelled.order).toEqual([]);
    expect(g.active).toBe(1);
  });

  it('an already ended call is refused at once; a call that ends after its turn keeps the slot until released', async () => {
    const g = gate({ slots: 1 });
    const ended = new AbortController();
    ended.abort(new Error('gone'));
    await expect(g.admit('ns', ended.signal)).rejects.toThrow('gone');
    expect([g.active, g.waiting]).toEqual([0, 0]);
    const late = new AbortController();
    const admission = await g.admit('ns', late.signal);
    late.abort(new Error('too late'));
    expect(g.active).toBe(1);
    admission.release();
    expect(g.active).toBe(0);
  });

  it('spare CPU admits as many more as run per tick (at least one); a busy process admits none', async () => {
    let spare = false;
    const g = gate({ slots: 1, tickMs: 50, spareCpu: () => spare });
    const calls: Array<[string, string]> = [];
    for (let i = 0; i < 6; i++) calls.push([`m${i}`, 'ns']);
    const { order, held } = track(g, calls);
    await flush();
    jest.advanceTimersByTime(200);
    await flush();
    expect(order).toEqual(['m0']);
    spare = true;
    jest.advanceTimersByTime(50);
    await flush();
    expect(order).toEqual(['m0', 'm1']);
    expect(held.get('m1')!.kind).toBe('spare_cpu');
    jest.advanceTimersByTime(50);
    await flush();
    expect(order).toEqual(['m0', 'm1', 'm2', 'm3']);
    spare = false;
    jest.advanceTimersByTime(100);
    await flush();
    expect([g.active, g.waiting]).toEqual([4, 2]);
    spare = true;
    jest.advanceTimersByTime(50);
    await flush();
    expect(order).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect([g.active, g.waiting]).toEqual([6, 0]);
    // Over the slot count now: releases hand on nothing until fewer than `slots` run.
    for (const name of ['m0', 'm1', 'm2', 'm3', 'm4']) held.get(name)!.release();
    expect(g.active).toBe(1);
  });

  it('slots 0 turns the gate off', async () => {
    const g = gate({ slots: 0 });
    const all = await Promise.all([g.admit('ns'), g.admit('ns'), g.admit('ns')]);
    expect(all.map((a) => a.kind)).toEqual(['off', 'off', 'off']);
    expect(g.active).toBe(0);
  });

  it('refuses options that are not whole numbers >= 0, naming the option', () => {
    expect(() => new MountAdmission({ slots: -1 })).toThrow(
      'mount admission slots must be a whole number >= 0 (got -1)',
    );
    expect(() => new MountAdmission({ leaseMs: 1.5 })).toThrow(
      'mount admission leaseMs must be a whole number >= 0 (got 1.5)',
    );
    expect(() => new MountAdmission({ maxWaiting: Number.NaN })).toThrow('maxWaiting');
  });

  it('reports a queue that stays non-empty once (after saturatedAfterMs) and once when it empties; a short wait is not reported', async () => {
    const reports: Array<[string, Record<string, number>]> = [];
    const g = gate({
      slots: 1,
      tickMs: 50,
      spareCpu: () => false,
      saturatedAfterMs: 10_000,
      leaseMs: 60_000,
      observer: {
        saturated: (state) => reports.push(['saturated', { ...state }]),
        drained: (state) => reports.push(['drained', { ...state }]),
      },
    });
    // A short stretch: b waits 5 s.
    let run = track(g, [
      ['a', 'ns'],
      ['b', 'other'],
    ]);
    await flush();
    jest.advanceTimersByTime(5000);
    run.held.get('a')!.release();
    await flush();
    run.held.get('b')!.release();
    expect(reports).toEqual([]);
    // A long one: d and e wait; e's call ends; d gets its turn after 25 s.
    const ending = new AbortController();
    run = track(g, [
      ['c', 'ns'],
      ['d', 'ns'],
    ]);
    const ended = track(g, [['e', 'other']], ending.signal);
    await flush();
    jest.advanceTimersByTime(9950);
    expect(reports).toEqual([]);
    jest.advanceTimersByTime(100);
    expect(reports).toEqual([
      ['saturated', { forMs: 10_000, waiting: 2, running: 1, slots: 1, admitted: 0, abandoned: 0 }],
    ]);
    jest.advanceTimersByTime(10_000);
    ending.abort(new Error('cancelled'));
    await flush();
    expect(ended.errors.get('e')).toBeInstanceOf(AdmissionWaitEnded);
    jest.advanceTimersByTime(4950);
    run.held.get('c')!.release();
    await flush();
    expect(run.order).toEqual(['c', 'd']);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toEqual([
      'drained',
      { forMs: 25_000, waiting: 0, running: 1, slots: 1, admitted: 1, abandoned: 1 },
    ]);
  });

  it('holds no timer once nobody waits and nothing is held (the process can exit)', async () => {
    const g = gate({ slots: 1, tickMs: 50, spareCpu: () => false });
    const { held } = track(g, [
      ['a', 'ns'],
      ['b', 'ns'],
    ]);
    await flush();
    expect(jest.getTimerCount()).toBe(2); // a's lease and the spare-CPU ticker
    held.get('a')!.release();
    await flush();
    held.get('b')!.release();
    expect(jest.getTimerCount()).toBe(0);
  });
});
