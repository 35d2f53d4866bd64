// A list + watch cache of one kind, client-go's reflector without the framework (DESIGN §7): list, then
// watch from the list's resourceVersion with bookmarks; a watch that times out resumes from the last seen
// resourceVersion; 410 Gone (history compacted) re-lists at once; a watch that ends within a second with
// no event counts as a failure (a server or proxy closing watches at once must not make a tight loop);
// every failure waits with bounded exponential backoff and jitter, or the server's Retry-After on 429.
// The first list is retried the same way in the background, so a node service starts while the API
// server is away and fills its cache when it comes back.
import { KubeClient } from './kube-client';
import { isGone, isNotFound, isTooManyRequests, KubeApiError } from './kube-api-error';
import { KubeResource } from './kube-resources';
import { KubeResourceObject, WatchEvent } from './kube-types';

/** What changed in a {@link WatchCache}. */
export type CacheChange = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Options of {@link WatchCache}. */
export interface WatchCacheProps {
  /** Client used for list and watch. */
  readonly client: KubeClient;
  /** Kind to cache, e.g. SECRET_PROVIDER_CLASSES. */
  readonly resource: KubeResource;
  /** Only this namespace. @default all namespaces */
  readonly namespace?: string;
  /** Label selector of list and watch. @default none */
  readonly labelSelector?: string;
  /** Field selector of list and watch, e.g. `spec.nodeName=<node>` for pods. @default none */
  readonly fieldSelector?: string;
  /** Server-side timeout of each watch request; the cache re-watches from the last resourceVersion. @default 300 */
  readonly watchTimeoutSeconds?: number;
  /** First retry delay after a failed list/watch. @default 250 */
  readonly minBackoffMs?: number;
  /** Retry delays double up to this bound (with jitter). @default 30000 */
  readonly maxBackoffMs?: number;
  /** Called after each change is applied to the cache. @default none */
  readonly onChange?: (change: CacheChange, object: KubeResourceObject) => void;
  /**
   * Shrinks each object before it is stored (client-go's TransformFunc), e.g. drop a Secret's data so the
   * cache holds names only. @default objects are stored as received
   */
  readonly transform?: (object: KubeResourceObject) => KubeResourceObject;
  /** Ask the server for metadata only (e.g. Secrets: names and labels, never data). @default false */
  readonly metadataOnly?: boolean;
  /**
   * Called with each list/watch failure before the retry (the cache keeps serving its last state);
   * `failures` counts the failures in a row, so a caller can log the first and then fewer. @default none
   */
  readonly onError?: (err: unknown, failures: number) => void;
  /**
   * Failures that retrying cannot fix (e.g. 403: RBAC does not grant the kind): the loop ends, and
   * start() rejects if the cache never synced. @default none: every failure is retried
   */
  readonly giveUpOn?: (err: unknown) => boolean;
  /** Longest Retry-After honoured, in ms. @default 300000 */
  readonly maxRetryAfterMs?: number;
}

/** Which failures in a row to log: the first, then the 2nd, 4th, 8th... (an outage is not a log flood). */
export function isWorthReporting(failures: number): boolean {
  return failures > 0 && (failures & (failures - 1)) === 0;
}

/** A watch shorter than this with no event at all is treated as a failure (client-go's "very short watch"). */
const SHORT_WATCH_MS = 1000;

/** A watch the server ended at once with nothing in it. */
export class ShortWatchError extends Error {
  constructor(resource: string, ms: number) {
    super(`watch of ${resource} ended after ${ms} ms without any event; backing off`);
    this.name = 'ShortWatchError';
  }
}

/** List + watch cache of one kind; see the file comment. */
export class WatchCache<T extends KubeResourceObject = KubeResourceObject> {
  private readonly props: WatchCacheProps;
  private readonly store = new Map<string, T>();
  private resourceVersion?: string;
  private stopped = false;
  private synced = false;
  private current?: { abort(): void };
  private wakeUp?: () => void;
  private loop?: Promise<void>;
  private listCount = 0;
  private readonly firstSync: Promise<void>;
  private settleFirstSync!: (err?: unknown) => void;

  constructor(props: WatchCacheProps) {
    this.props = props;
    this.firstSync = new Promise<void>((resolve, reject) => {
      this.settleFirstSync = (err) => (err === undefined ? resolve() : reject(err));
    });
    // A caller that does not wait for the first sync must not see an unhandled rejection.
    this.firstSync.catch(() => undefined);
  }

  /**
   * Starts the list/watch loop in the background. The returned promise resolves once the first list is
   * in the cache (failed lists are retried until then); it rejects only when `giveUpOn` ends the loop or
   * stop() is called first. Callers that must not wait (a node service starting) need not await it.
   */
  start(): Promise<void> {
    if (this.loop) throw new Error(`watch cache of ${this.props.resource.plural} already started`);
    this.loop = this.run();
    return this.firstSync;
  }

  /** Stops watching; the cache keeps its last content. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wakeUp?.();
    await this.loop;
    this.settleFirstSync(
      new Error(`watch cache of ${this.props.resource.plural} stopped before its first list`),
    );
  }

  /** True once the first list has been stored. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** How many full lists were made (1 + re-lists after 410 Gone); useful to operators and tests. */
  get lists(): number {
    return this.listCount;
  }

  /** The cached object, or undefined. Cluster-scoped kinds use namespace ''. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(key(namespace, name));
  }

  /**
   * The cached object, else a GET (an object created a moment ago may not have reached the watch yet).
   * Returns undefined when the API server says NotFound too.
   */
  async getOrFetch(namespace: string | undefined, name: string): Promise<T | undefined> {
    const cached = this.get(namespace, name);
    if (cached) return cached;
    try {
      return await this.props.client.get<T>(this.props.resource, name, namespace);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** All cached objects, optionally of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  private async relist(): Promise<void> {
    const answer = await this.props.client.list<T>(this.props.resource, {
      namespace: this.props.namespace,
      labelSelector: this.props.labelSelector,
      fieldSelector: this.props.fieldSelector,
      metadataOnly: this.props.metadataOnly,
    });
    this.listCount++;
    const seen = new Set<string>();
    for (const received of answer.items) {
      const item = this.shrink(received);
      const k = key(item.metadata.namespace, item.metadata.name ?? '');
      seen.add(k);
      const previous = this.store.get(k);
      this.store.set(k, item);
      if (!previous) this.notify('ADDED', item);
      else if (previous.metadata.resourceVersion !== item.metadata.resourceVersion)
        this.notify('MODIFIED', item);
    }
    for (const [k, item] of [...this.store]) {
      if (!seen.has(k)) {
        this.store.delete(k);
        this.notify('DELETED', item);
      }
    }
    this.resourceVersion = answer.metadata.resourceVersion;
    this.synced = true;
  }

  private async run(): Promise<void> {
    const minBackoff = this.props.minBackoffMs ?? 250;
    const maxBackoff = this.props.maxBackoffMs ?? 30_000;
    let backoff = minBackoff;
    let failures = 0;
    let needList = true;
    // 410 Gone after compaction is expected: the first one re-lists at once. A watch from a fresh list's
    // resourceVersion that is Gone again means a server or proxy answering 410 to everything: back off.
    let goneInARow = 0;
    const onGone = async () => {
      needList = true;
      if (++goneInARow === 1) return;
      await this.sleep(this.retryDelay(undefined, backoff));
      backoff = Math.min(backoff * 2, maxBackoff);
    };
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.settleFirstSync();
        }
        const outcome = await this.watchOnce();
        if (outcome === 'gone') {
          await onGone();
          continue;
        }
        backoff = minBackoff;
        failures = 0;
        goneInARow = 0;
      } catch (err) {
        this.current = undefined;
        if (this.stopped) break;
        if (isGone(err)) {
          await onGone();
          continue;
        }
        failures++;
        this.props.onError?.(err, failures);
        if (this.props.giveUpOn?.(err)) {
          this.settleFirstSync(err);
          break;
        }
        // After a failed list keep listing; after a failed watch the resourceVersion is still good.
        await this.sleep(this.retryDelay(err, backoff));
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  /** One watch from the current resourceVersion; throws on failure, a short empty watch included. */
  private async watchOnce(): Promise<'ended' | 'gone'> {
    const started = Date.now();
    let events = 0;
    let failure: unknown;
    let gone = false;
    const handle = this.props.client.watch<T>(
      this.props.resource,
      {
        namespace: this.props.namespace,
        labelSelector: this.props.labelSelector,
        fieldSelector: this.props.fieldSelector,
        resourceVersion: this.resourceVersion,
        timeoutSeconds: this.props.watchTimeoutSeconds ?? 300,
        allowWatchBookmarks: true,
        metadataOnly: this.props.metadataOnly,
      },
      (event) => {
        if (this.apply(event)) {
          events++;
          return;
        }
        if (event.type !== 'ERROR') return;
        // The stream's own error: a metav1.Status (410 when the resourceVersion is too old).
        const status = event.object as unknown as { code?: number; reason?: string; message?: string };
        if (status.code === 410) gone = true;
        else
          failure = new KubeApiError(
            'WATCH',
            this.props.resource.plural,
            status.code ?? 0,
            status.reason ?? 'Unknown',
            status.message ?? 'watch error event',
          );
        handle.abort();
      },
    );
    this.current = handle;
    await handle.done;
    this.current = undefined;
    if (gone) return 'gone';
    if (failure !== undefined) throw failure;
    const lasted = Date.now() - started;
    if (events === 0 && lasted < SHORT_WATCH_MS && !this.stopped)
      throw new ShortWatchError(this.props.resource.plural, lasted);
    return 'ended';
  }

  /** Backoff with jitter, or the server's Retry-After when it asked for longer (429). */
  private retryDelay(err: unknown, backoff: number): number {
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    if (!isTooManyRequests(err)) return jittered;
    const retryAfterMs = ((err as KubeApiError).retryAfterSeconds ?? 0) * 1000;
    return Math.max(jittered, Math.min(retryAfterMs, this.props.maxRetryAfterMs ?? 300_000));
  }

  private shrink(object: T): T {
    return this.props.transform ? (this.props.transform(object) as T) : object;
  }

  /** Applies one watch event; false for ERROR. */
  private apply(received: WatchEvent<T>): boolean {
    const event =
      received.type === 'ADDED' || received.type === 'MODIFIED' || received.type === 'DELETED'
        ? { ...received, object: this.shrink(received.object) }
        : received;
    const rv = event.object?.metadata?.resourceVersion;
    switch (event.type) {
      case 'BOOKMARK':
        if (rv) this.resourceVersion = rv;
        return true;
      case 'ADDED':
      case 'MODIFIED':
        this.store.set(key(event.object.metadata.namespace, event.object.metadata.name ?? ''), event.object);
        if (rv) this.resourceVersion = rv;
        this.notify(event.type, event.object);
        return true;
      case 'DELETED':
        this.store.delete(key(event.object.metadata.namespace, event.object.metadata.name ?? ''));
        if (rv) this.resourceVersion = rv;
        this.notify('DELETED', event.object);
        return true;
      default:
        return false;
    }
  }

  private notify(change: CacheChange, object: T): void {
    try {
      this.props.onChange?.(change, object);
    } catch (err) {
      this.props.onError?.(err, 1);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
