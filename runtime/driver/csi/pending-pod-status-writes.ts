// The SecretProviderClassPodStatus writes NodePublishVolume no longer waits for: one pending write per
// target path, the newest publish's, tried after the answer and retried with bounded exponential backoff
// while the volume stays published. Each attempt runs under the node server's per-path lock, so it never
// interleaves with a publish or unpublish of the same path. A write the API server refuses for good (a
// 4xx other than conflict, throttling or an expired token) is reported and dropped. The journal entry
// of a path is deleted when its write is done, dropped or cancelled (its unpublish).
import { KubeApiError } from '../cluster/kube/kube-api-error';
import type { PodStatusJournal } from '../cluster/pod-status-journal';
import type { PodStatusWriter, PublishedStatus } from '../cluster/pod-status-writer';

/** One pending write and what follows it. */
export interface PendingWrite {
  readonly status: PublishedStatus;
  /** Runs once the SPCPS is written (secret sync is enqueued here, never before the SPCPS exists). */
  readonly written: () => Promise<void>;
}

/** Options of PendingPodStatusWrites. */
export interface PendingPodStatusWritesProps {
  readonly writer: PodStatusWriter;
  readonly journal: PodStatusJournal;
  /** The node server's per-target-path lock. */
  readonly serialized: <T>(targetPath: string, fn: () => Promise<T>) => Promise<T>;
  /** A failed attempt that will be retried in `retryInMs`. */
  readonly onRetry: (status: PublishedStatus, err: unknown, failures: number, retryInMs: number) => void;
  /** A write the API server refused for good: dropped. */
  readonly onGaveUp: (status: PublishedStatus, err: unknown) => void;
  /** Work that follows a write and failed (its own errors are the callee's). */
  readonly onFollowUpFailed: (status: PublishedStatus, err: unknown) => void;
  /** A journal entry that is no longer owed could not be deleted (a restart then writes it once more). */
  readonly onJournalNotCleaned: (targetPath: string, err: unknown) => void;
  /** First retry delay, doubled per failure. @default 500 */
  readonly initialBackoffMs?: number;
  /** Longest retry delay. @default 30000 */
  readonly maxBackoffMs?: number;
}

interface PathState {
  write: PendingWrite;
  failures: number;
  timer?: NodeJS.Timeout;
  /** An attempt is scheduled (timer or immediate) or running. */
  scheduled: boolean;
}

export class PendingPodStatusWrites {
  private readonly pending = new Map<string, PathState>();
  private readonly followUps = new Set<Promise<void>>();
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly props: PendingPodStatusWritesProps) {}

  /** True while a write of `targetPath` is owed. */
  has(targetPath: string): boolean {
    return this.pending.has(targetPath);
  }

  /** True while a write is owed or the follow-up of a written one (its secret sync) still runs. */
  get busy(): boolean {
    return this.pending.size > 0 || this.followUps.size > 0;
  }

  /**
   * Owes `write` (replacing an older write of the same path, whose follow-up is dropped with it: the
   * newer one covers it). Call it under the path's lock, after the journal entry is recorded. The attempt
   * starts after the current call has answered, also when a retry was waiting: a publish comes at most
   * once per rotation interval, and the API server may well be back by then (the failure count, and so
   * the next delay, is kept).
   */
  submit(write: PendingWrite): void {
    const targetPath = write.status.targetPath;
    const state = this.pending.get(targetPath);
    if (state) {
      state.write = write;
      if (state.timer) {
        clearTimeout(state.timer);
        state.timer = undefined;
        state.scheduled = false;
      }
      if (!state.scheduled) this.schedule(targetPath, state, 0);
      return;
    }
    const fresh: PathState = { write, failures: 0, scheduled: false };
    this.pending.set(targetPath, fresh);
    this.schedule(targetPath, fresh, 0);
  }

  /** The volume is gone (call it under the path's lock): no write is owed any more. */
  cancel(targetPath: string): void {
    const state = this.pending.get(targetPath);
    if (state?.timer) clearTimeout(state.timer);
    this.pending.delete(targetPath);
    this.forgetEntry(targetPath);
    this.wakeIfIdle();
  }

  /** Resolves when no write is owed and no follow-up is running (tests; shutdown, raced with a timeout). */
  async idle(): Promise<void> {
    while (this.busy) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Stops retrying (shutdown); the journal keeps what is still owed for the next start. */
  stop(): void {
    this.stopped = true;
    for (const state of this.pending.values()) if (state.timer) clearTimeout(state.timer);
  }

  private schedule(targetPath: string, state: PathState, delayMs: number): void {
    if (this.stopped) return;
    state.scheduled = true;
    const run = (): void => {
      state.timer = undefined;
      void this.props.serialized(targetPath, () => this.attempt(targetPath, state));
    };
    // An immediate for the first attempt: it runs after the NodePublishVolume answer is flushed.
    if (delayMs === 0) setImmediate(run);
    else {
      state.timer = setTimeout(run, delayMs);
      state.timer.unref();
    }
  }

  /** One try, under the path's lock. */
  private async attempt(targetPath: string, state: PathState): Promise<void> {
    state.scheduled = false;
    // Cancelled (unpublished), or the path was published afresh since: that state is the current one.
    if (this.pending.get(targetPath) !== state || this.stopped) return;
    const { write } = state;
    try {
      await this.props.writer.save(write.status);
    } catch (err) {
      if (this.pending.get(targetPath) !== state) return;
      if (isRefusedForGood(err)) {
        this.pending.delete(targetPath);
        this.forgetEntry(targetPath);
        this.props.onGaveUp(write.status, err);
        this.wakeIfIdle();
        return;
      }
      state.failures++;
      const base = this.props.initialBackoffMs ?? 500;
      const delay = Math.min(base * 2 ** Math.min(state.failures - 1, 30), this.props.maxBackoffMs ?? 30_000);
      this.props.onRetry(write.status, err, state.failures, delay);
      this.schedule(targetPath, state, delay);
      return;
    }
    this.pending.delete(targetPath);
    this.forgetEntry(targetPath);
    const followUp = write
      .written()
      .catch((err: unknown) => this.props.onFollowUpFailed(write.status, err))
      .finally(() => {
        this.followUps.delete(followUp);
        this.wakeIfIdle();
      });
    this.followUps.add(followUp);
  }

  private forgetEntry(targetPath: string): void {
    try {
      this.props.journal.forget(targetPath);
    } catch (err) {
      this.props.onJournalNotCleaned(targetPath, err);
    }
  }

  private wakeIfIdle(): void {
    if (this.busy) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

/**
 * A 4xx that a retry of the same request cannot turn into a success: forbidden by RBAC (403), the
 * namespace gone (404), refused by validation or admission (400, 422). Conflicts (409), throttling (429),
 * timeouts (408) and an expired token (401) are worth another try, as is every 5xx and transport error.
 */
export function isRefusedForGood(err: unknown): boolean {
  let cause: unknown = err;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    if (cause instanceof KubeApiError) {
      const code = cause.statusCode;
      return code >= 400 && code < 500 && ![401, 408, 409, 429].includes(code);
    }
    cause = cause.cause;
  }
  return false;
}
