import { KubeClient } from './kube-client';
import { isGone, isNotFound, KubeApiError } from './kube-api-error';
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
  /** Called with each list/watch failure before the retry (the cache keeps serving its last state). @default none */
  readonly onError?: (err: unknown) => void;
}

/**
 * List + watch cache of one kind (an informer without the framework): list, then watch from the list's
 * resourceVersion with bookmarks; a watch that times out resumes from the last seen resourceVersion; 410
 * Gone (history compacted) re-lists; failures retry with bounded exponential backoff and jitter.
 */
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

  constructor(props: WatchCacheProps) {
    this.props = props;
  }

  /** Starts the list/watch loop; resolves once the first list is in the cache, rejects if it fails. */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`watch cache of ${this.props.resource.plural} already started`);
    await this.relist();
    this.loop = this.run();
  }

  /** Stops watching; the cache keeps its last content. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wakeUp?.();
    await this.loop;
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
    let needRelist = false;
    while (!this.stopped) {
      try {
        if (needRelist) {
          await this.relist();
          needRelist = false;
        }
        let gone = false;
        let progressed = false;
        const handle = this.props.client.watch<T>(
          this.props.resource,
          {
            namespace: this.props.namespace,
            labelSelector: this.props.labelSelector,
            fieldSelector: this.props.fieldSelector,
            resourceVersion: this.resourceVersion,
            timeoutSeconds: this.props.watchTimeoutSeconds ?? 300,
            allowWatchBookmarks: true,
          },
          (event) => {
            if (this.apply(event)) progressed = true;
            else if (event.type === 'ERROR') {
              gone = (event.object as unknown as { code?: number }).code === 410;
              handle.abort();
            }
          },
        );
        this.current = handle;
        await handle.done;
        this.current = undefined;
        if (gone) {
          needRelist = true;
          continue; // 410 is expected after compaction: re-list at once, no backoff
        }
        if (progressed) backoff = minBackoff;
      } catch (err) {
        this.current = undefined;
        if (this.stopped) break;
        if (isGone(err)) {
          needRelist = true;
          continue;
        }
        this.props.onError?.(err);
        // After a failed list keep trying to list; after a failed watch the resourceVersion is still good.
        if (!(err instanceof KubeApiError) || err.statusCode !== 0) needRelist = needRelist || !this.synced;
        await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
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
      this.props.onError?.(err);
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
