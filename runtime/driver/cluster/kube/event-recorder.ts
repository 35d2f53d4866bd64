// Kubernetes Events about an object, bounded the way client-go's event recorder bounds them (DESIGN §7):
// - a repeat (same object, type, reason, message and source within the correlation window) updates the
//   first Event's count and lastTimestamp with one PATCH instead of creating another object;
// - each involved object has a token bucket (burst 25, one more every 5 minutes, client-go's spam
//   filter), so one pod failing every republish cannot flood the API server or etcd;
// - Events wait in one bounded queue written by one worker, so a slow or absent API server costs a
//   fixed amount of memory and never a pile of parallel requests; what does not fit is dropped, counted.
// Recording never throws and never blocks the caller.
import { KubeClient } from './kube-client';
import { isNotFound } from './kube-api-error';
import { EVENTS } from './kube-resources';
import { KubeEvent, KubeResourceObject } from './kube-types';

/** Longest Event message the API server accepts (1 KiB in core/v1 validation). */
const MAX_MESSAGE = 1024;

/** Options of {@link EventRecorder}. */
export interface EventRecorderProps {
  /** Client that creates the Events. */
  readonly client: KubeClient;
  /** `source.component` / `reportingComponent`, e.g. `csi-secrets-store-controller`. */
  readonly component: string;
  /** `source.host` (the node name). @default none */
  readonly host?: string;
  /** Called when an Event cannot be written (events are best-effort and never fail the caller). @default none */
  readonly onError?: (err: unknown) => void;
  /** Repeats within this window are counted on the first Event. @default 600000 (client-go: 10 minutes) */
  readonly correlationWindowMs?: number;
  /** Distinct Events remembered for counting repeats, and objects for rate limits. @default 4096 */
  readonly maxRemembered?: number;
  /** Events one object may get at once. @default 25 */
  readonly burstPerObject?: number;
  /** One more Event per object after this long. @default 300000 (5 minutes) */
  readonly refillIntervalMs?: number;
  /** Events waiting to be written; a new one beyond is dropped. @default 1000 */
  readonly maxQueued?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** Kind of an Event. */
export type EventType = 'Normal' | 'Warning';

interface Counted {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastSeen: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

interface Queued {
  readonly key: string;
  readonly event: KubeEvent;
  readonly at: number;
}

/**
 * Writes core/v1 Events about an object (involvedObject = kind, name, namespace, uid). Callers pass
 * messages that hold names and reasons only, never secret content or tokens.
 */
export class EventRecorder {
  private readonly props: EventRecorderProps;
  private readonly now: () => number;
  private readonly counted = new Map<string, Counted>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly queue: Queued[] = [];
  private worker?: Promise<void>;
  private droppedCount = 0;

  constructor(props: EventRecorderProps) {
    this.props = props;
    this.now = props.now ?? Date.now;
  }

  /** Events not written because of the per-object rate limit or a full queue. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Queues the Event (or the count of its repeat); see the file comment. */
  record(about: KubeResourceObject, type: EventType, reason: string, message: string): void {
    const now = this.now();
    const objectKey = [
      about.apiVersion,
      about.kind,
      about.metadata.namespace,
      about.metadata.name,
      about.metadata.uid,
    ].join('\u0000');
    if (!this.takeToken(objectKey, now) || this.queue.length >= (this.props.maxQueued ?? 1000)) {
      this.droppedCount++;
      return;
    }
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const namespace = about.metadata.namespace || 'default';
    const at = new Date(now).toISOString();
    const event: KubeEvent = {
      metadata: { generateName: `${about.metadata.name ?? 'object'}.`, namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        namespace: about.metadata.namespace,
        uid: about.metadata.uid,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason,
      message: text,
      type,
      source: { component: this.props.component, host: this.props.host },
      reportingComponent: this.props.component,
      reportingInstance: this.props.host ?? '',
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
    this.queue.push({ key: [objectKey, type, reason, text].join('\u0000'), event, at: now });
    this.worker ??= this.drain().finally(() => (this.worker = undefined));
  }

  /** Resolves when every queued Event has been written or given up (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.worker) await this.worker;
  }

  private async drain(): Promise<void> {
    // Begins in the check phase, after the gRPC answer of the call that recorded the Event has been
    // flushed (a native immediate, run before JS immediates): the Event's request never delays it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      try {
        await this.write(next);
      } catch (err) {
        this.props.onError?.(err);
      }
    }
  }

  private async write(item: Queued): Promise<void> {
    const window = this.props.correlationWindowMs ?? 600_000;
    const seen = this.counted.get(item.key);
    if (seen && item.at - seen.lastSeen < window) {
      try {
        await this.props.client.patch(
          EVENTS,
          seen.name,
          { count: seen.count + 1, lastTimestamp: item.event.lastTimestamp },
          { namespace: seen.namespace },
        );
        seen.count++;
        seen.lastSeen = item.at;
        this.remember(item.key, seen);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err; // the Event expired (TTL): create it afresh
      }
    }
    const created = await this.props.client.create<KubeEvent>(
      EVENTS,
      item.event,
      item.event.metadata.namespace,
    );
    this.remember(item.key, {
      name: created.metadata.name ?? '',
      namespace: item.event.metadata.namespace ?? 'default',
      count: 1,
      lastSeen: item.at,
    });
  }

  /** Least recently used first out, so both maps stay bounded. */
  private remember(key: string, value: Counted): void {
    this.counted.delete(key);
    this.counted.set(key, value);
    trim(this.counted, this.props.maxRemembered ?? 4096);
  }

  private takeToken(objectKey: string, now: number): boolean {
    const burst = this.props.burstPerObject ?? 25;
    const interval = this.props.refillIntervalMs ?? 300_000;
    const bucket = this.buckets.get(objectKey) ?? { tokens: burst, refilledAt: now };
    const refills = Math.floor((now - bucket.refilledAt) / interval);
    if (refills > 0) {
      bucket.tokens = Math.min(burst, bucket.tokens + refills);
      bucket.refilledAt += refills * interval;
    }
    this.buckets.delete(objectKey);
    this.buckets.set(objectKey, bucket);
    trim(this.buckets, this.props.maxRemembered ?? 4096);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}

function trim<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K);
}
