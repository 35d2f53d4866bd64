// Waits, bounded, for a provider socket that is not there yet. After a node boots or the DaemonSets roll,
// kubelet's first NodePublish can arrive before the provider has created its socket; upstream fails at
// once, and kubelet then holds that volume in its retry backoff (~12 s measured on a real kubelet) long
// after the provider is up. One poll timer serves every waiting call, whatever the provider; each call
// keeps its own bound. Polling rather than fs.watch: the provider directories are hostPaths that may not
// exist yet, and inotify watches are a per-user limit shared with the node's other pods.

/** Options of a ProviderSocketWaiter. */
export interface ProviderSocketWaiterProps {
  /** The provider's socket path, or undefined while it is not there (called with validated names only). */
  readonly find: (provider: string) => string | undefined;
  /** Time between two looks. @default 100 */
  readonly pollIntervalMs?: number;
  /** Distinct providers waited for at once; a call for one more fails at once. @default 16 */
  readonly maxProviders?: number;
  /** Calls waiting at once; one more fails at once. @default 1024 */
  readonly maxCalls?: number;
}

interface WaitingCall {
  readonly untilMs: number;
  readonly resolve: (socketPath: string | undefined) => void;
}

export class ProviderSocketWaiter {
  /** The calls waiting, per provider: one look per provider per tick serves them all. */
  private readonly waiting = new Map<string, Set<WaitingCall>>();
  private calls = 0;
  private readonly pollIntervalMs: number;
  private readonly maxProviders: number;
  private readonly maxCalls: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly props: ProviderSocketWaiterProps) {
    this.pollIntervalMs = props.pollIntervalMs ?? 100;
    this.maxProviders = props.maxProviders ?? 16;
    this.maxCalls = props.maxCalls ?? 1024;
  }

  /** The socket path once it is there, or undefined at `untilMs` (epoch ms), at close, or when full. */
  wait(provider: string, untilMs: number): Promise<string | undefined> {
    const found = this.props.find(provider);
    if (found !== undefined || untilMs <= Date.now()) return Promise.resolve(found);
    // A tenant may name any provider in an SPC: many missing names must not multiply the looks.
    let calls = this.waiting.get(provider);
    if (this.calls >= this.maxCalls || (!calls && this.waiting.size >= this.maxProviders))
      return Promise.resolve(undefined);
    if (!calls) this.waiting.set(provider, (calls = new Set()));
    const waitingCalls = calls;
    return new Promise((resolve) => {
      waitingCalls.add({ untilMs, resolve });
      this.calls++;
      this.schedule();
    });
  }

  /** Calls waiting now. */
  get waitingCalls(): number {
    return this.calls;
  }

  /** True while the poll timer is set (only while a call waits). */
  get polling(): boolean {
    return this.timer !== undefined;
  }

  /** Ends every wait with undefined and stops the timer (driver shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const calls = [...this.waiting.values()].flatMap((set) => [...set]);
    this.waiting.clear();
    this.calls = 0;
    for (const call of calls) call.resolve(undefined);
  }

  private schedule(): void {
    if (this.timer || this.calls === 0) return;
    let earliest = Infinity;
    for (const calls of this.waiting.values())
      for (const call of calls) earliest = Math.min(earliest, call.untilMs);
    const delay = Math.max(1, Math.min(this.pollIntervalMs, earliest - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.poll();
    }, delay);
  }

  private poll(): void {
    const now = Date.now();
    for (const [provider, calls] of [...this.waiting]) {
      const socketPath = this.props.find(provider);
      for (const call of [...calls]) {
        if (socketPath === undefined && now < call.untilMs) continue;
        calls.delete(call);
        this.calls--;
        call.resolve(socketPath);
      }
      if (calls.size === 0) this.waiting.delete(provider);
    }
    this.schedule();
  }
}
