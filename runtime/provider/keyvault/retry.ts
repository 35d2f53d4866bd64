// Bounded retries with exponential backoff and full jitter on throttling (429), server errors
// (5xx, 408) and timeouts/network errors, honouring Retry-After up to a cap. Key Vault has no
// server-side queue: retrying immediately just adds load to a throttled vault.

/** How one failure should be treated. */
export interface RetryDecision {
  readonly retryable: boolean;
  /** Server-requested delay (Retry-After), ms. */
  readonly retryAfterMs?: number;
  /** Short label for metrics and logs: throttled | server_error | timeout | network. */
  readonly reason?: string;
}

/** Options of the retry loop. */
export interface RetryProps {
  /** Retries after the first attempt. @default 3 */
  readonly maxRetries?: number;
  /** First backoff, doubled per retry. @default 800 */
  readonly baseDelayMs?: number;
  /** Largest backoff. @default 30000 */
  readonly maxDelayMs?: number;
  /** Largest Retry-After we wait for; a longer one fails at once. @default 60000 */
  readonly maxRetryAfterMs?: number;
  /** Classifies an error. */
  readonly classify: (err: unknown) => RetryDecision;
  /** Called before each wait (metrics, logs, pausing the vault's bucket). */
  readonly onRetry?: (attempt: number, delayMs: number, decision: RetryDecision, err: unknown) => void;
  /** Random in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Sleep. @default setTimeout-based */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborts waiting. */
  readonly signal?: AbortSignal;
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Delay before retry number `attempt` (1-based): full jitter over [half, full] of the exponential step. */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  props: RetryProps,
): Promise<T> {
  const maxRetries = props.maxRetries ?? 3;
  const baseDelayMs = props.baseDelayMs ?? 800;
  const maxDelayMs = props.maxDelayMs ?? 30_000;
  const maxRetryAfterMs = props.maxRetryAfterMs ?? 60_000;
  const random = props.random ?? Math.random;
  const sleep = props.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      const decision = props.classify(err);
      if (!decision.retryable || attempt >= maxRetries) throw err;
      if (decision.retryAfterMs !== undefined && decision.retryAfterMs > maxRetryAfterMs) throw err;
      const delay = Math.max(
        decision.retryAfterMs ?? 0,
        backoffDelay(attempt + 1, baseDelayMs, maxDelayMs, random),
      );
      props.onRetry?.(attempt + 1, delay, decision, err);
      await sleep(delay, props.signal);
    }
  }
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
