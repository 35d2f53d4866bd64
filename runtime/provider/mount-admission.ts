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
// - a waiting Mount whose call ends (cancel, deadline) leaves the queue with its call's reason.
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
   * the call ends first (the Mount never got a slot).
   */
  async admit(tenant: string, signal?: AbortSignal): Promise<Admission> {
    signal?.throwIfAborted();
    if (this.slots === 0) return UNGATED('off');
    if (this.running < this.slots && this.waitingCount === 0) return this.start(tenant, 'immediate');
    if (this.waitingCount >= this.maxWaiting) return UNGATED('overflow');
    return new Promise<Admission>((resolve, reject) => {
      const onAbort = () => {
        if (!this.remove(waiter)) return;
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        tenant,
        seq: this.arrivals++,
        grant: (kind) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.start(tenant, kind));
        },
      };
      let queue = this.queues.get(tenant);
      if (!queue) this.queues.set(tenant, (queue = []));
      queue.push(waiter);
      this.waitingCount++;
      signal?.addEventListener('abort', onAbort, { once: true });
      this.startTicker();
    });
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
    while (this.running < this.slots && this.waitingCount > 0) this.takeNext()!.grant(kind);
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
      if (this.waitingCount === 0 || !this.spareCpu()) return;
      // As many more as run now (at least one): idle CPU opens the gate within a few ticks.
      for (let n = Math.max(1, this.running); n > 0 && this.waitingCount > 0; n--)
        this.takeNext()!.grant('spare_cpu');
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
