// One token bucket per vault, shared by every Mount of the process, so a burst of pods cannot push
// a vault past its limit. Waiters are served by priority: first mounts (a pod is waiting to start)
// before rotation (a pod already has content). A 429 with Retry-After pauses the whole bucket.

export type RequestPriority = 'mount' | 'rotation';

/** Options of a token bucket. */
export interface TokenBucketProps {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size: the largest burst. */
  readonly burst: number;
  /** Clock in ms. @default Date.now */
  readonly now?: () => number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly signal?: AbortSignal;
  readonly onAbort?: () => void;
}

export class TokenBucket {
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  private readonly queues: Record<RequestPriority, Waiter[]> = { mount: [], rotation: [] };
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Requests that had to wait for a token or a pause. */
  waited = 0;

  constructor(private readonly props: TokenBucketProps) {
    if (!(props.ratePerSecond > 0) || !(props.burst >= 1)) {
      throw new Error(
        `token bucket needs a rate > 0 and a burst >= 1 (got rate ${props.ratePerSecond}, burst ${props.burst})`,
      );
    }
    this.now = props.now ?? Date.now;
    this.tokens = props.burst;
    this.lastRefill = this.now();
  }

  /** Until when a 429's Retry-After holds every caller (epoch ms; past when not paused). */
  get pausedUntilMs(): number {
    return this.pausedUntil;
  }

  /** Number of callers waiting. */
  get pending(): number {
    return this.queues.mount.length + this.queues.rotation.length;
  }

  /** Resolves when the caller may send one request: true when it had to wait for it. */
  acquire(priority: RequestPriority, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.pending === 0 && this.tryTake()) return Promise.resolve(false);
    this.waited++;
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => resolve(true),
        reject,
        signal,
        onAbort: signal
          ? () => {
              this.remove(waiter);
              reject(abortError(signal));
            }
          : undefined,
      };
      if (signal && waiter.onAbort) signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.queues[priority].push(waiter);
      this.schedule();
    });
  }

  /** Stops handing out tokens until `untilMs` (e.g. after a 429 with Retry-After). */
  pauseUntil(untilMs: number): void {
    if (untilMs > this.pausedUntil) this.pausedUntil = untilMs;
    this.tokens = Math.min(this.tokens, 0);
    this.schedule();
  }

  private remove(waiter: Waiter): void {
    for (const queue of Object.values(this.queues)) {
      const index = queue.indexOf(waiter);
      if (index >= 0) queue.splice(index, 1);
    }
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - Math.max(this.lastRefill, this.pausedUntil));
    if (now >= this.pausedUntil)
      this.tokens = Math.min(this.props.burst, this.tokens + (elapsed * this.props.ratePerSecond) / 1000);
    this.lastRefill = now;
  }

  private tryTake(): boolean {
    this.refill();
    if (this.now() < this.pausedUntil || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private drain(): void {
    this.timer = undefined;
    while (this.pending > 0 && this.tryTake()) {
      const waiter = (this.queues.mount.shift() ?? this.queues.rotation.shift())!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.pending === 0) return;
    const now = this.now();
    const untilToken = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.props.ratePerSecond;
    const delay = Math.max(untilToken, this.pausedUntil - now, 0);
    this.timer = setTimeout(() => this.drain(), Math.ceil(delay));
    this.timer.unref?.();
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the request was aborted');
}
