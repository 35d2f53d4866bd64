// Keeps synced Secrets alive between mounts: remembers which mounted volumes feed which Secrets, re-syncs
// when a managed Secret is deleted (watch), and re-syncs every volume periodically (upstream requeues
// every 5 minutes). A pod that is gone or terminating is never re-synced, so garbage collection of a
// deleted workload's Secret is not undone. Syncs after a publish are queued and run after kubelet has
// its answer (upstream's controller is asynchronous too); after a driver restart the volumes are found
// again from this node's SecretProviderClassPodStatus objects.
import { EventRecorder } from '../cluster/kube/event-recorder';
import { isForbidden, isNotFound } from '../cluster/kube/kube-api-error';
import { KubeClient } from '../cluster/kube/kube-client';
import {
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  SECRETS,
  SECRET_PROVIDER_CLASSES,
} from '../cluster/kube/kube-resources';
import { Secret, SecretProviderClass, SecretProviderClassPodStatus } from '../cluster/kube/kube-types';
import { isWorthReporting, WatchCache } from '../cluster/kube/watch-cache';
import { NODE_NAME_LABEL, targetPathMismatch } from '../cluster/pod-status';
import { SecretSyncMetrics } from './secret-sync-metrics';
import {
  MANAGED_LABEL,
  SYNC_EVENT_COMPONENT,
  SyncLogger,
  SyncPodReference,
  syncSecrets,
  SyncSecretsResult,
} from './sync-secrets';

/** Options of {@link SecretSyncController}. */
export interface SecretSyncControllerProps {
  /** Client for Secrets, pods, SPCs and Events. */
  readonly kube: KubeClient;
  /** This node's name (`--nodeid`): the Events' source host. */
  readonly nodeName: string;
  /** Sync metrics. @default not recorded */
  readonly metrics?: SecretSyncMetrics;
  /** Logger. @default silent */
  readonly logger?: SyncLogger;
  /** Every volume is re-synced this often (re-creates deleted Secrets, re-applies data). @default 300000 */
  readonly resyncIntervalMs?: number;
  /** Delay between a managed Secret's deletion and its re-sync (lets a GC cascade reach the pods first). @default 1000 */
  readonly recreateDelayMs?: number;
  /** Watch managed Secrets to re-create a deleted one at once; off = only the periodic resync heals. @default true */
  readonly watchSecrets?: boolean;
  /**
   * True when a target path is still a mount point on this node: after a restart only volumes that are
   * still mounted are tracked again. @default every path counts as mounted
   */
  readonly isMounted?: (targetPath: string) => boolean;
  /** Volumes synced at once from the queue. @default 4 */
  readonly concurrency?: number;
  /** First retry delay of the start-up rebuild when the API server does not answer, ms. @default 250 */
  readonly restoreBackoffMs?: number;
}

/** A mounted volume the controller keeps in sync. */
export interface SyncedVolume {
  /** The pod that mounted it. */
  readonly pod: SyncPodReference;
  /** The SecretProviderClass (its secretObjects are read again on every re-sync). */
  readonly spc: SecretProviderClass;
  /** The mount directory. */
  readonly targetPath: string;
  /**
   * False when the provider call left the files unchanged (a rotation check). A volume already in sync
   * with the same SPC generation is then not re-synced (no API calls); deletions are still healed by the
   * Secret watch and drift by the periodic resync. @default true
   */
  readonly contentChanged?: boolean;
}

export class SecretSyncController {
  /** Warning Events on pods, source component `csi-secrets-store-controller` as upstream. */
  readonly events: EventRecorder;
  private readonly props: SecretSyncControllerProps;
  private readonly volumes = new Map<string, SyncedVolume>();
  private readonly pending = new Set<string>();
  /** Volumes whose last sync succeeded for every Secret. */
  private readonly inSync = new Set<string>();
  private managedSecrets?: WatchCache<Secret>;
  private timer?: NodeJS.Timeout;
  private readonly delayed = new Set<NodeJS.Timeout>();
  /** Syncs waiting to run, newest per volume. */
  private readonly queued = new Map<string, SyncedVolume>();
  private readonly running = new Set<string>();
  private readonly idleWaiters: Array<() => void> = [];
  private resyncing?: Promise<void>;
  private stopped = false;
  private pumpScheduled = false;

  constructor(props: SecretSyncControllerProps) {
    this.props = props;
    this.events = new EventRecorder({
      client: props.kube,
      component: SYNC_EVENT_COMPONENT,
      host: props.nodeName,
      onError: (err) => props.logger?.warn('event not recorded', { error: (err as Error).message }),
    });
  }

  /**
   * Starts the managed-Secret watch, the start-up rebuild from this node's SPCPS and the periodic
   * resync, all in the background: the promise resolves once the watch has its first list and the
   * rebuild is done (both retry while the API server is away), and a caller that must not wait (the
   * driver serving CSI) need not await it. Without RBAC to list/watch Secrets (sync not enabled in the
   * install) it logs once and relies on the periodic resync.
   */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.resyncAll(), this.props.resyncIntervalMs ?? 300_000);
    this.timer.unref();
    return Promise.all([this.startWatch(), this.restoreWithRetry()]).then(() => undefined);
  }

  /** Stops watching and timers; queued syncs that have not started are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
    this.queued.clear();
    await this.managedSecrets?.stop();
  }

  /**
   * Queues a sync of a freshly published volume (the node server's `onPublished` hook): it runs after
   * the NodePublishVolume answer, a newer publish of the same volume replacing one still waiting.
   */
  enqueue(volume: SyncedVolume): void {
    if (this.stopped) return;
    this.queued.set(volume.targetPath, volume);
    this.pumpSoon();
  }

  /** Resolves when no queued or running sync is left (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.queued.size > 0 || this.running.size > 0)
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Starts the queue in the event loop's check phase: after the NodePublishVolume answer, whose gRPC
   * write is flushed by a native immediate (those run before JS immediates), so the sync's API requests
   * never delay it.
   */
  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const limit = this.props.concurrency ?? 4;
    for (const [targetPath, volume] of this.queued) {
      if (this.running.size >= limit) break;
      if (this.running.has(targetPath)) continue; // one sync per volume at a time
      this.queued.delete(targetPath);
      this.running.add(targetPath);
      void this.sync(volume)
        .catch((err: unknown) =>
          this.props.logger?.warn('secret sync failed', { targetPath, error: (err as Error).message }),
        )
        .finally(() => {
          this.running.delete(targetPath);
          this.pump();
          if (this.queued.size === 0 && this.running.size === 0)
            for (const wake of this.idleWaiters.splice(0)) wake();
        });
    }
  }

  private startWatch(): Promise<void> {
    if (!(this.props.watchSecrets ?? true)) return Promise.resolve();
    const cache = new WatchCache<Secret>({
      client: this.props.kube,
      resource: SECRETS,
      labelSelector: `${MANAGED_LABEL}=true`,
      // Names are all the controller needs: the server sends metadata only, so no Secret's data ever
      // reaches this node through the watch, and the cache holds names and labels.
      metadataOnly: true,
      transform: (secret) => ({ apiVersion: 'v1', kind: 'Secret', metadata: secret.metadata }),
      onChange: (change, secret) => {
        if (change === 'DELETED')
          this.secretDeleted(secret.metadata.namespace ?? '', secret.metadata.name ?? '');
      },
      giveUpOn: isForbidden,
      onError: (err, failures) => {
        if (isWorthReporting(failures))
          this.props.logger?.warn('managed secret watch failed; retrying', {
            error: (err as Error).message,
            failures,
          });
      },
    });
    this.managedSecrets = cache;
    return cache.start().catch((err: unknown) => {
      if (!isForbidden(err)) return; // stopped before the first list
      this.props.logger?.warn(
        'cannot watch secrets (RBAC): a deleted synced Secret is re-created at the next periodic resync only; grant list/watch on secrets to re-create it at once',
        { error: (err as Error).message },
      );
    });
  }

  /** The start-up rebuild, retried with backoff until the API server answers. */
  private async restoreWithRetry(): Promise<void> {
    let delay = this.props.restoreBackoffMs ?? 250;
    for (let failures = 1; !this.stopped; failures++) {
      try {
        const found = await this.restore();
        if (found > 0) this.props.logger?.info('secret sync resumed for mounted volumes', { volumes: found });
        return;
      } catch (err) {
        if (isForbidden(err)) {
          this.props.logger?.warn(
            'cannot list secretproviderclasspodstatuses (RBAC): secret sync resumes only when a volume is published again',
            { error: (err as Error).message },
          );
          return;
        }
        if (isWorthReporting(failures))
          this.props.logger?.warn('finding the volumes to keep in sync failed; retrying', {
            error: (err as Error).message,
            failures,
          });
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /**
   * Tracks again, after a driver restart, the volumes this node's SPCPS objects name: only when the
   * target path is still mounted here and belongs to the pod that owns the SPCPS (the same guard as at
   * publish: a path taken from an API object is never read unless it is that pod's volume). Each one is
   * synced once, which also re-creates a Secret deleted while the driver was down.
   */
  async restore(): Promise<number> {
    const list = await this.props.kube.list<SecretProviderClassPodStatus>(
      SECRET_PROVIDER_CLASS_POD_STATUSES,
      {
        labelSelector: `${NODE_NAME_LABEL}=${this.props.nodeName}`,
      },
    );
    let found = 0;
    for (const podStatus of list.items) {
      const volume = await this.volumeOf(podStatus);
      if (!volume || this.volumes.has(volume.targetPath) || this.queued.has(volume.targetPath)) continue;
      found++;
      this.enqueue(volume);
    }
    return found;
  }

  private async volumeOf(podStatus: SecretProviderClassPodStatus): Promise<SyncedVolume | undefined> {
    const { targetPath, podName, secretProviderClassName } = podStatus.status ?? {};
    const namespace = podStatus.metadata.namespace;
    const owner = (podStatus.metadata.ownerReferences ?? []).find(
      (o) => o.kind === 'Pod' && o.apiVersion === 'v1',
    );
    if (!targetPath || !podName || !secretProviderClassName || !namespace || owner?.name !== podName)
      return undefined;
    if (targetPathMismatch(targetPath, owner.uid)) return undefined;
    if (!(this.props.isMounted?.(targetPath) ?? true)) return undefined;
    let spc: SecretProviderClass;
    try {
      spc = await this.props.kube.get<SecretProviderClass>(
        SECRET_PROVIDER_CLASSES,
        secretProviderClassName,
        namespace,
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if ((spc.spec?.secretObjects ?? []).length === 0) return undefined;
    return { pod: { name: podName, namespace, uid: owner.uid }, spc, targetPath };
  }

  /** Syncs a freshly published volume and remembers it (the node server's `onPublished` hook). */
  async sync(volume: SyncedVolume): Promise<SyncSecretsResult> {
    if ((volume.spc.spec?.secretObjects ?? []).length === 0) {
      this.volumes.delete(volume.targetPath);
      return { secrets: [] };
    }
    const known = this.volumes.get(volume.targetPath);
    const sameSpc = known?.spc.metadata.resourceVersion === volume.spc.metadata.resourceVersion;
    this.volumes.set(volume.targetPath, volume);
    if (volume.contentChanged === false && known && sameSpc && this.inSync.has(volume.targetPath)) {
      return { secrets: [] };
    }
    const result = await this.run(volume);
    if (result.secrets.every((s) => s.outcome !== 'failed' && s.outcome !== 'unmanaged'))
      this.inSync.add(volume.targetPath);
    else this.inSync.delete(volume.targetPath);
    return result;
  }

  /** Forgets a volume (NodeUnpublishVolume): its Secrets are left to their owners and the GC. */
  forget(targetPath: string): void {
    this.queued.delete(targetPath);
    this.volumes.delete(targetPath);
    this.inSync.delete(targetPath);
  }

  /** Volumes currently kept in sync. */
  get trackedVolumes(): number {
    return this.volumes.size;
  }

  /**
   * Re-syncs every remembered volume once, re-reading each SPC. A pass still running when the next is
   * due (a slow API server, many volumes) is joined, not doubled.
   */
  resyncAll(): Promise<void> {
    this.resyncing ??= (async () => {
      for (const targetPath of [...this.volumes.keys()]) await this.resync(targetPath);
    })().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private secretDeleted(namespace: string, name: string): void {
    for (const [targetPath, volume] of this.volumes) {
      if (volume.pod.namespace !== namespace) continue;
      if (!(volume.spc.spec?.secretObjects ?? []).some((o) => o.secretName === name)) continue;
      if (this.pending.has(targetPath)) continue;
      this.pending.add(targetPath);
      const timer = setTimeout(() => {
        this.delayed.delete(timer);
        this.pending.delete(targetPath);
        void this.resync(targetPath);
      }, this.props.recreateDelayMs ?? 1000);
      timer.unref();
      this.delayed.add(timer);
    }
  }

  private async resync(targetPath: string): Promise<void> {
    const volume = this.volumes.get(targetPath);
    if (!volume) return;
    try {
      const spc = await this.props.kube.get<SecretProviderClass>(
        SECRET_PROVIDER_CLASSES,
        volume.spc.metadata.name ?? '',
        volume.spc.metadata.namespace,
      );
      const fresh = { ...volume, spc };
      this.volumes.set(targetPath, fresh);
      const result = await this.run(fresh);
      if (result.secrets.some((r) => r.outcome === 'failed' || r.outcome === 'unmanaged'))
        this.inSync.delete(targetPath);
      // A pod that is gone or terminating yields no entries: stop tracking its volume.
      if (result.secrets.length === 0 && (spc.spec?.secretObjects ?? []).length > 0)
        this.volumes.delete(targetPath);
    } catch (err) {
      if (isNotFound(err)) {
        this.props.logger?.warn('secret re-sync skipped: the SecretProviderClass is gone', {
          spc: volume.spc.metadata.name,
        });
        return;
      }
      this.props.logger?.warn('secret re-sync failed', { error: (err as Error).message });
    }
  }

  private run(volume: SyncedVolume): Promise<SyncSecretsResult> {
    return syncSecrets({
      kube: this.props.kube,
      spc: volume.spc,
      pod: volume.pod,
      targetPath: volume.targetPath,
      events: this.events,
      metrics: this.props.metrics,
      logger: this.props.logger,
    });
  }
}
