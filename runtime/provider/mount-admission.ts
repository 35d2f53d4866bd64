// Which Mounts run now. Under the install's 50m CPU limit a node's burst of cold Mounts (50 pods at
// once) shares a few ms of CPU per 100 ms: run all at once and each gets 1/50 of it, so every pod waits
// for the last one and all answer together. Admitted a few at a time in arrival order, the first
// Mounts get the CPU, their token exchange and their Key Vault GETs first and answer early; the last
// one answers no later than before. Upstream has no such gate (its Go runtime happens to answer in
// rough arrival order).
//
// Never a lock one tenant can hold:
// - a lease: a Mount holds its slot at most `leaseMs`, then the next one goes; the holder carries on
//   without a slot and keeps its own deadline and error (a stalled vault or Entra ID holds nobody);
// - spare CPU: while Mounts wait and the process is idle and on time (its Mounts wait on the network,
//   not on the CPU), as many more as run now are admitted per tick, so a slow Key Vault or Entra ID
//   never turns the gate into a queue;
// - per-namespace fairness: the next turn goes to the waiting namespace that had the fewest turns since
//   the gate was last idle (ties: the longest waiting), so a namespace that sends 100 Mounts gets every
//   other turn at most while another waits; within a namespace, arrival order;
// - a bound: beyond `maxWaiting` queued Mounts a Mount goes ahead unqueued, as with no gate;
// - a waiting Mount whose call ends (cancel, deadline) leaves the queue with an
//   {@link AdmissionWaitEnded}: how long it waited and what was ahead of it, so its answer can say it
//   never started.
//
// Observable (MountAdmissionObserver: the provider's metrics and a log line when the queue stays
// non-empty): nothing per Mount is kept beyond the waiter itself, nothing per namespace beyond the turns.
import { performance } from 'node:perf_hooks';

/** Options of the gate. */
export interface MountAdmissionProps {
  /** Mounts running at once; 0 turns the gate off. @default 4 */
  readonly slots?: number;
  /** Longest one Mount holds its slot, ms. @default 2000 */
  readonly leaseMs?: number;
  /** Most Mounts waiting; the next one goes ahead unqueued. @default 1000 */
  readonly maxWaiting?: number;
  /** How often waiting Mounts check for spare CPU, ms. @default 50 */
  readonly tickMs?: number;
  /** Whether the process had CPU to spare since the last tick. @default {@link eventLoopSpareCpu} */
  readonly spareCpu?: () => boolean;
  /** Told of every turn and every Mount that left the queue without one (metrics, logs). */
  readonly observer?: MountAdmissionObserver;
  /** How long the queue stays non-empty before the observer hears it is saturated, ms. @default 10000 */
  readonly saturatedAfterMs?: number;
  /** The clock of the waits, ms. @default performance.now (monotonic) */
  readonly now?: () => number;
}

/** What the gate reports. Called synchronously: keep it cheap. */
export interface MountAdmissionObserver {
  /** A Mount got its turn (or went ahead ungated) after waiting `waitedMs` (0: it did not wait). */
  admitted?(kind: AdmissionKind, waitedMs: number): void;
  /** A waiting Mount's call ended before its turn. */
  abandoned?(ended: AdmissionWaitEnded): void;
  /** The queue has not been empty for `saturatedAfterMs` (once per such stretch; checked every tick). */
  saturated?(state: AdmissionSaturation): void;
  /** The queue emptied after a stretch reported as saturated. */
  drained?(state: AdmissionSaturation): void;
}

/** A stretch of time with Mounts waiting. */
export interface AdmissionSaturation {
  /** Since the queue was last empty, ms. */
  readonly forMs: number;
  readonly waiting: number;
  readonly running: number;
  readonly slots: number;
  /** Mounts that got a turn after waiting, in this stretch. */
  readonly admitted: number;
  /** Mounts whose call ended while they waited, in this stretch. */
  readonly abandoned: number;
}

/**
 * The rejection of a Mount whose call ended (deadline, cancel) while it waited: it never started.
 * `cause` is the call's abort reason.
 */
export class AdmissionWaitEnded extends Error {
  constructor(
    /** How long it waited, ms. */
    readonly waitedMs: number,
    /** Mounts holding a slot when it left (more than `slots` while spare CPU lets more in). */
    readonly running: number,
    /** Waiting Mounts that arrived before it, when it left. */
    readonly ahead: number,
    /** The gate's slots (--mount-admission-slots). */
    readonly slots: number,
    cause: unknown,
  ) {
    super(
      `the Mount's call ended after it waited ${Math.round(waitedMs)} ms for its turn (${running} running, ${ahead} waiting ahead, ${slots} slots)`,
      { cause },
    );
    this.name = 'AdmissionWaitEnded';
  }
}

/** How a Mount got its turn (for the metrics and the tests). */
export type AdmissionKind = 'immediate' | 'queued' | 'spare_cpu' | 'lease' | 'overflow' | 'off';

/** A Mount's turn: release it when the Mount is done (idempotent; a no-op after the lease ran out). */
export interface Admission {
  readonly kind: AdmissionKind;
  release(): void;
}

interface Waiter {
  readonly tenant: string;
  /** Arrival number. */
  readonly seq: number;
  /** When it started waiting (the gate's clock). */
  readonly since: number;
  readonly grant: (kind: AdmissionKind) => void;
}

/** Namespaces whose turns are counted before those with no waiting Mount are forgotten. */
const MAX_TENANTS_COUNTED = 10_000;

const UNGATED = (kind: AdmissionKind): Admission => ({ kind, release: () => undefined });

/**
 * Spare CPU since the last call: the event loop was idle at least half of the time and the tick came
 * on time. A throttled process (CPU quota spent) runs its timers late, so it never looks spare.
 */
export function eventLoopSpareCpu(tickMs = 50): () => boolean {
  let last = performance.eventLoopUtilization();
  let lastAt = performance.now();
  return () => {
    const now = performance.eventLoopUtilization();
    const at = performance.now();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    const late = at - lastAt - tickMs;
    last = now;
    lastAt = at;
    return busy < 0.5 && late < tickMs / 2;
  };
}

export class MountAdmission {
  private readonly slots: number;
  private readonly leaseMs: number;
  private readonly maxWaiting: number;
  private readonly tickMs: number;
  private readonly spareCpu: () => boolean;
  private running = 0;
  private waitingCount = 0;
  /** Waiting Mounts per namespace, in arrival order. */
  private readonly queues = new Map<string, Waiter[]>();
  /** Turns each namespace had since the gate was last idle. */
  private readonly turns = new Map<string, number>();
  private arrivals = 0;
  private ticker?: NodeJS.Timeout;
  private readonly observer: MountAdmissionObserver;
  private readonly saturatedAfterMs: number;
  private readonly now: () => number;
  /** The current stretch with Mounts waiting (undefined while nobody waits). */
  private stretch?: { since: number; admitted: number; abandoned: number; reported: boolean };

  constructor(props: MountAdmissionProps = {}) {
    this.slots = props.slots ?? 4;
    this.leaseMs = props.leaseMs ?? 2000;
    this.maxWaiting = props.maxWaiting ?? 1000;
    this.tickMs = props.tickMs ?? 50;
    for (const [name, value] of [
      ['slots', this.slots],
      ['leaseMs', this.leaseMs],
      ['maxWaiting', this.maxWaiting],
      ['tickMs', this.tickMs],
    ] as const)
      if (!Number.isInteger(value) || value < 0)
        throw new Error(`mount admission ${name} must be a whole number >= 0 (got ${value})`);
    this.spareCpu = props.spareCpu ?? eventLoopSpareCpu(this.tickMs);
    this.observer = props.observer ?? {};
    this.saturatedAfterMs = props.saturatedAfterMs ?? 10_000;
    this.now = props.now ?? (() => performance.now());
  }

  /** Mounts holding a slot now. */
  get active(): number {
    return this.running;
  }

  /** Mounts waiting now. */
  get waiting(): number {
    return this.waitingCount;
  }

  /**
   * Waits for the Mount's turn. `tenant` is the pod's namespace. Rejects with the signal's reason when
   * the call has already ended, with an {@link AdmissionWaitEnded} when it ends while waiting (the
   * Mount never got a slot).
   */
  async admit(tenant: string, signal?: AbortSignal): Promise<Admission> {
    signal?.throwIfAborted();
    if (this.slots === 0) return this.ungated('off');
    if (this.running < this.slots && this.waitingCount === 0) {
      this.observer.admitted?.('immediate', 0);
      return this.start(tenant, 'immediate');
    }
    if (this.waitingCount >= this.maxWaiting) return this.ungated('overflow');
    return new Promise<Admission>((resolve, reject) => {
      const onAbort = () => {
        // Counted before it leaves: the ones ahead of it are those that arrived before it.
        const ahead = this.waitingBefore(waiter.seq);
        if (!this.remove(waiter)) return;
        const ended = new AdmissionWaitEnded(
          this.now() - waiter.since,
          this.running,
          ahead,
          this.slots,
          signal!.reason,
        );
        if (this.stretch) this.stretch.abandoned++;
        this.observer.abandoned?.(ended);
        this.endStretchIfIdle();
        reject(ended);
      };
      const waiter: Waiter = {
        tenant,
        seq: this.arrivals++,
        since: this.now(),
        grant: (kind) => {
          signal?.removeEventListener('abort', onAbort);
          if (this.stretch) this.stretch.admitted++;
          this.observer.admitted?.(kind, this.now() - waiter.since);
          resolve(this.start(tenant, kind));
        },
      };
      let queue = this.queues.get(tenant);
      if (!queue) this.queues.set(tenant, (queue = []));
      queue.push(waiter);
      this.waitingCount++;
      this.stretch ??= { since: waiter.since, admitted: 0, abandoned: 0, reported: false };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.startTicker();
    });
  }

  private ungated(kind: AdmissionKind): Admission {
    this.observer.admitted?.(kind, 0);
    return UNGATED(kind);
  }

  /** Waiting Mounts that arrived before arrival `seq` (each queue is in arrival order). */
  private waitingBefore(seq: number): number {
    let count = 0;
    for (const queue of this.queues.values())
      for (const waiter of queue) {
        if (waiter.seq >= seq) break;
        count++;
      }
    return count;
  }

  private saturation(): AdmissionSaturation {
    const stretch = this.stretch!;
    return {
      forMs: this.now() - stretch.since,
      waiting: this.waitingCount,
      running: this.running,
      slots: this.slots,
      admitted: stretch.admitted,
      abandoned: stretch.abandoned,
    };
  }

  /** Tells the observer once per stretch that the queue has stayed non-empty too long. */
  private checkSaturated(): void {
    const stretch = this.stretch;
    if (!stretch || stretch.reported || this.now() - stretch.since < this.saturatedAfterMs) return;
    stretch.reported = true;
    this.observer.saturated?.(this.saturation());
  }

  /** Ends the stretch once nobody waits (the drained report only after a saturated one). */
  private endStretchIfIdle(): void {
    if (this.waitingCount > 0 || !this.stretch) return;
    if (this.stretch.reported) this.observer.drained?.(this.saturation());
    this.stretch = undefined;
  }

  private start(tenant: string, kind: AdmissionKind): Admission {
    this.running++;
    this.turns.set(tenant, (this.turns.get(tenant) ?? 0) + 1);
    let held = true;
    const free = (next: AdmissionKind) => {
      if (!held) return;
      held = false;
      clearTimeout(lease);
      this.running--;
      this.grantNext(next);
      if (this.running === 0 && this.waitingCount === 0) this.turns.clear();
    };
    const lease = setTimeout(() => free('lease'), this.leaseMs);
    lease.unref();
    return { kind, release: () => free('queued') };
  }

  /** Hands free slots to waiting Mounts, one namespace after the other. */
  private grantNext(kind: AdmissionKind): void {
    while (this.running < this.slots && this.waitingCount > 0) this.grant(this.takeNext()!, kind);
  }

  private grant(waiter: Waiter, kind: AdmissionKind): void {
    waiter.grant(kind);
    this.endStretchIfIdle();
  }

  /** The oldest waiter of the namespace with the fewest turns (ties: the one waiting longest). */
  private takeNext(): Waiter | undefined {
    let best: Waiter[] | undefined;
    let bestTurns = Infinity;
    for (const [tenant, queue] of this.queues) {
      const turns = this.turns.get(tenant) ?? 0;
      if (turns < bestTurns || (turns === bestTurns && queue[0].seq < best![0].seq)) {
        best = queue;
        bestTurns = turns;
      }
    }
    if (!best) return undefined;
    const waiter = best.shift()!;
    if (best.length === 0) this.queues.delete(waiter.tenant);
    this.waitingCount--;
    if (this.waitingCount === 0) this.stopTicker();
    // Bounded however many namespaces pass through a gate that is never idle.
    if (this.turns.size > MAX_TENANTS_COUNTED)
      for (const tenant of this.turns.keys()) if (!this.queues.has(tenant)) this.turns.delete(tenant);
    return waiter;
  }

  private remove(waiter: Waiter): boolean {
    const queue = this.queues.get(waiter.tenant);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(waiter.tenant);
    this.waitingCount--;
    if (this.waitingCount === 0) this.stopTicker();
    return true;
  }

  private startTicker(): void {
    if (this.ticker || this.tickMs === 0) return;
    this.spareCpu(); // a fresh baseline: what happened before anyone waited does not count
    this.ticker = setInterval(() => {
      this.checkSaturated();
      if (this.waitingCount === 0 || !this.spareCpu()) return;
      // As many more as run now (at least one): idle CPU opens the gate within a few ticks.
      for (let n = Math.max(1, this.running); n > 0 && this.waitingCount > 0; n--)
        this.grant(this.takeNext()!, 'spare_cpu');
    }, this.tickMs);
    this.ticker.unref();
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Stops the ticker; waiting Mounts stay queued until slots free up (the server drains them). */
  close(): void {
    this.stopTicker();
  }
}
