// Keyed single-flight for calls shared by several Mounts (a Key Vault GET, an access token). The
// shared call runs with a signal of its own, aborted only when every caller waiting on it has gone:
// a caller that is cancelled (its gRPC call ended) leaves alone, with its own abort reason, and the
// others keep waiting. Binding the shared call to the first caller's signal would fail them all.

/** A caller's signal: an AbortSignal, or the SDKs' AbortSignalLike. */
export interface CallerSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  waiters: number;
}

/** Thrown into the shared call when its last caller has gone. */
export class EveryCallerLeftError extends Error {
  constructor() {
    super('every caller waiting for this call went away');
    this.name = 'EveryCallerLeftError';
  }
}

function abortReason(signal: CallerSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the request was aborted');
}

export class SingleFlight<V> {
  private readonly flights = new Map<string, Flight<V>>();

  /** Calls in flight (for tests and metrics). */
  get size(): number {
    return this.flights.size;
  }

  /**
   * The result of `call` for `key`, started now or joined if one is in flight. `shared` is true for
   * a joined call. `signal` lets this caller leave early; the call itself gets a signal that aborts
   * only when all its callers have left.
   */
  run(
    key: string,
    call: (signal: AbortSignal) => Promise<V>,
    signal?: CallerSignal,
  ): { readonly shared: boolean; readonly result: Promise<V> } {
    if (signal?.aborted) return { shared: false, result: Promise.reject(abortReason(signal)) };
    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (!flight) {
      const controller = new AbortController();
      const started: Flight<V> = {
        controller,
        waiters: 0,
        // Started now (a synchronous throw becomes a rejection).
        promise: (async () => call(controller.signal))().finally(() => {
          if (this.flights.get(key) === started) this.flights.delete(key);
        }),
      };
      // Nobody may be left to observe a failure (all callers gone): never an unhandled rejection.
      started.promise.catch(() => undefined);
      this.flights.set(key, started);
      flight = started;
    }
    return { shared, result: this.join(key, flight, signal) };
  }

  private join(key: string, flight: Flight<V>, signal: CallerSignal | undefined): Promise<V> {
    flight.waiters++;
    return new Promise<V>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(abortReason(signal!));
        if (--flight.waiters === 0) {
          // A later caller starts afresh instead of joining a call that is being abandoned.
          if (this.flights.get(key) === flight) this.flights.delete(key);
          flight.controller.abort(new EveryCallerLeftError());
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          flight.waiters--;
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          flight.waiters--;
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }
}
