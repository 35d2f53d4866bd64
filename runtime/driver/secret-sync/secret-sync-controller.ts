// Keeps synced Secrets alive between mounts: remembers which mounted volumes feed which Secrets, re-syncs
// when a managed Secret is deleted (watch), and re-syncs every volume periodically (upstream requeues
// every 5 minutes). A pod that is gone or terminating is never re-synced, so garbage collection of a
// deleted workload's Secret is not undone.
import { EventRecorder } from '../cluster/kube/event-recorder';
import { isForbidden, isNotFound } from '../cluster/kube/kube-api-error';
import { KubeClient } from '../cluster/kube/kube-client';
import { SECRETS, SECRET_PROVIDER_CLASSES } from '../cluster/kube/kube-resources';
import { Secret, SecretProviderClass } from '../cluster/kube/kube-types';
import { WatchCache } from '../cluster/kube/watch-cache';
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
   * Starts the managed-Secret watch and the periodic resync. Without RBAC to list/watch Secrets (sync
   * not enabled in the install) it logs once and relies on the periodic resync.
   */
  async start(): Promise<void> {
    if (this.props.watchSecrets ?? true) {
      const cache = new WatchCache<Secret>({
        client: this.props.kube,
        resource: SECRETS,
        labelSelector: `${MANAGED_LABEL}=true`,
        // Names are all the controller needs: the cache never holds secret data.
        transform: (secret) => ({
          apiVersion: secret.apiVersion,
          kind: secret.kind,
          metadata: secret.metadata,
        }),
        onChange: (change, secret) => {
          if (change === 'DELETED')
            this.secretDeleted(secret.metadata.namespace ?? '', secret.metadata.name ?? '');
        },
        onError: (err) =>
          this.props.logger?.warn('managed secret watch failed; retrying', { error: (err as Error).message }),
      });
      try {
        await cache.start();
        this.managedSecrets = cache;
      } catch (err) {
        if (!isForbidden(err)) throw err;
        this.props.logger?.warn(
          'cannot watch secrets (RBAC): a deleted synced Secret is re-created at the next periodic resync only; grant list/watch on secrets to re-create it at once',
          { error: (err as Error).message },
        );
      }
    }
    this.timer = setInterval(() => void this.resyncAll(), this.props.resyncIntervalMs ?? 300_000);
    this.timer.unref();
  }

  /** Stops watching and timers. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
    await this.managedSecrets?.stop();
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
    this.volumes.delete(targetPath);
    this.inSync.delete(targetPath);
  }

  /** Volumes currently kept in sync. */
  get trackedVolumes(): number {
    return this.volumes.size;
  }

  /** Re-syncs every remembered volume once, re-reading each SPC. */
  async resyncAll(): Promise<void> {
    for (const targetPath of [...this.volumes.keys()]) await this.resync(targetPath);
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
