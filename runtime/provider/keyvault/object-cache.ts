// In-memory cache of Key Vault responses with single-flight: concurrent and repeated requests for
// the same key within the freshness window share one Key Vault call. Keys always start with the
// identity key, so a value is only ever served to a request presenting the same identity. Bounded
// in entries (least recently used goes first) and age; failures are never cached. A shared load
// survives the caller that started it (see SingleFlight).
import { SingleFlight } from '../single-flight';

/** Options of the cache. */
export interface ObjectCacheProps {
  /** Most entries kept. @default 10000 */
  readonly maxEntries?: number;
  /** Freshness window in ms; 0 disables caching (single-flight still applies). @default 30000 */
  readonly maxAgeMs?: number;
  /** Clock in ms. @default Date.now */
  readonly now?: () => number;
}

/** How a value was obtained. */
export type CacheOutcome = 'hit' | 'miss' | 'shared';

interface Entry<V> {
  readonly value: V;
  readonly storedAt: number;
}

export class ObjectCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly flights = new SingleFlight<V>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  readonly stats = { hit: 0, miss: 0, shared: 0, evicted: 0 };

  constructor(props: ObjectCacheProps = {}) {
    this.maxEntries = props.maxEntries ?? 10_000;
    this.maxAgeMs = props.maxAgeMs ?? 30_000;
    this.now = props.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value, or the result of `load`, run once for all concurrent callers of `key`. `signal`
   * is this caller's: when it aborts, this caller stops waiting; `load` gets a signal that aborts
   * only when every caller of the shared load has gone. `maxAgeMs` narrows the freshness window for
   * this caller only (never widens it): an older entry is loaded again, and stored for everyone.
   */
  async getOrLoad(
    key: string,
    load: (signal: AbortSignal) => Promise<V>,
    onOutcome?: (outcome: CacheOutcome) => void,
    signal?: AbortSignal,
    maxAgeMs: number = this.maxAgeMs,
  ): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.storedAt < Math.min(maxAgeMs, this.maxAgeMs)) {
      // Refresh LRU position.
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.stats.hit++;
      onOutcome?.('hit');
      return entry.value;
    }
    if (entry) this.entries.delete(key);
    const { shared, result } = this.flights.run(
      key,
      async (flightSignal) => {
        const value = await load(flightSignal);
        if (this.maxAgeMs > 0) this.store(key, value);
        return value;
      },
      signal,
    );
    this.stats[shared ? 'shared' : 'miss']++;
    onOutcome?.(shared ? 'shared' : 'miss');
    return result;
  }

  private store(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.stats.evicted++;
    }
  }

  /** Drops expired entries (called periodically so idle entries do not hold memory). */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (now - entry.storedAt >= this.maxAgeMs) this.entries.delete(key);
    }
  }
}
