// NodePublishVolume and NodeUnpublishVolume: upstream's node server (reference §2.3, §2.4) as phases that
// read top to bottom, each in the file of its concern:
//   1. the request's arguments, bounded (publish-request.ts)
//   2. the target path's shape (cluster/pod-status.ts), then the mount point: idempotency and the
//      rotation gate (volume/)
//   3. the SecretProviderClass and the pod: the SPC (secret-provider-class.ts), tokens only from kubelet
//      (service-account-tokens.ts), the target path against the pod (cluster/pod-status-writer.ts), read
//      while the tmpfs is mounted
//   4. the provider call (provider-client/)
//   5. the atomic write of its files (volume/atomic-writer.ts)
//   6. the SecretProviderClassPodStatus: recorded in the restart journal (cluster/pod-status-journal.ts),
//      then written after the answer, retried while the volume stays published (pending-pod-status-writes.ts)
//   7. the report: metrics, Events and logs (report/publish-reporter.ts); secret sync is queued once the
//      SPCPS exists (a bare pod's synced Secrets are owned by it)
// Beyond upstream: every check of phase 3 before the provider is asked, a rotation interval counted from
// the last successful check, a re-resolved provider socket, payload validation before any write, Events
// for failed remounts and rotations, a first mount that does not wait for the API server's SPCPS write,
// and an unpublish that never needs the API server.
import type { Logger } from '../../common/logging/logger';
import { DEFAULT_DRIVER_NAME, NodePublishVolumeRequest, NodeUnpublishVolumeRequest } from '../../wire/csi';
import type { ObjectVersion } from '../../wire/provider-v1alpha1';
import type {
  PodEventRecorder,
  PodReference,
  PodSource,
  PodStatusStore,
  SecretProviderClassSource,
  TokenPolicySource,
} from '../cluster/ports';
import type { SecretProviderClass } from '../cluster/kube/kube-types';
import type { PendingPodStatus, PodStatusJournal } from '../cluster/pod-status-journal';
import { PodStatusWriter, PublishedStatus } from '../cluster/pod-status-writer';
import { ErrorReason } from '../error-reasons';
import { buildMountRequest } from '../provider-client/mount-request';
import type { ProviderClients } from '../provider-client/provider-clients';
import type { DriverMetrics } from '../report/driver-metrics';
import { MetricLabels } from '../report/metric-labels';
import { PublishReport, PublishReporter } from '../report/publish-reporter';
import { forgetVolume, writePayloadAtomically } from '../volume/atomic-writer';
import type { Mounter } from '../volume/mounter';
import type { RotationGate } from '../volume/rotation-gate';
import { PendingPodStatusWrites } from './pending-pod-status-writes';
import { parsePublishRequest, parseUnpublishRequest, PublishRequest } from './publish-request';
import { PublishError } from './publish-error';
import { resolveSecretProviderClass } from './secret-provider-class';
import { checkServiceAccountTokens } from './service-account-tokens';

/** What a successful publish that called the provider hands to secret sync. */
export interface PublishedVolume {
  readonly pod: PodReference;
  readonly spc: SecretProviderClass;
  readonly targetPath: string;
  readonly objectVersions: readonly ObjectVersion[];
  /** True when the files on disk changed in this call. */
  readonly contentChanged: boolean;
  /** True for a republish (rotation), false for the first mount. */
  readonly remount: boolean;
}

/** Everything the node server works with. */
export interface NodeServerProps {
  /** `--nodeid`: the SPCPS node label. */
  readonly nodeId: string;
  readonly mounter: Mounter;
  readonly providers: ProviderClients;
  readonly secretProviderClasses: SecretProviderClassSource;
  readonly podStatuses: PodStatusStore;
  /**
   * Where the SPCPS writes still owed are recorded before NodePublishVolume answers (next to the CSI
   * socket); a journal that cannot be written makes the publish write the SPCPS before answering.
   */
  readonly podStatusJournal: PodStatusJournal;
  /** Retry delays of a failed SPCPS write, doubled per failure. @default { initialMs: 500, maxMs: 30000 } */
  readonly podStatusRetry?: { readonly initialMs: number; readonly maxMs: number };
  /** Pods, read when a volume's SPCPS is first written, to check its target path against the pod. */
  readonly pods: PodSource;
  /** The CSI driver name a pod's volume must name. @default 'secrets-store.csi.k8s.io' */
  readonly driverName?: string;
  /** The driver's CSIDriver: whether kubelet sends service-account tokens, and where. */
  readonly tokenPolicy: TokenPolicySource;
  readonly events: PodEventRecorder;
  readonly metrics: DriverMetrics;
  /** Bounded metric label values. @default provider names whose socket exists in the provider directories */
  readonly metricLabels?: MetricLabels;
  readonly logger: Logger;
  /** Present when `--enable-secret-rotation` is on. @default undefined: a mounted volume is never refreshed */
  readonly rotation?: RotationGate;
  /**
   * Called after every provider call that succeeded (first mount and rotation): the secret-sync entry
   * point. Its failure is logged and evented by the callee, never fails the mount. @default no sync
   */
  readonly onPublished?: (volume: PublishedVolume) => Promise<void>;
  /** Called after a volume was unmounted (secret sync forgets it). @default nothing */
  readonly onUnpublished?: (targetPath: string) => void;
}

/** The `providerName` upstream's csi-sanity run uses to mount an empty tmpfs without a provider. */
const SANITY_MOCK_PROVIDER = 'mock_provider';

export class NodeServer {
  private readonly locks = new Map<string, Promise<void>>();
  /** Work a call started but does not wait for (SPCPS deletes at unpublish). */
  private readonly background = new Set<Promise<void>>();
  private readonly podStatuses: PodStatusWriter;
  private readonly pendingStatuses: PendingPodStatusWrites;
  private readonly reporter: PublishReporter;
  private readonly driverName: string;
  /**
   * Volumes whose files changed and whose Secrets have not been handed that content yet (the publish
   * failed after the write, e.g. the API server was away): the next successful publish syncs them.
   */
  private readonly unsynced = new Set<string>();

  constructor(private readonly props: NodeServerProps) {
    this.driverName = props.driverName ?? DEFAULT_DRIVER_NAME;
    this.podStatuses = new PodStatusWriter({
      store: props.podStatuses,
      pods: props.pods,
      nodeId: props.nodeId,
      driverName: this.driverName,
    });
    this.reporter = new PublishReporter({
      metrics: props.metrics,
      labels:
        props.metricLabels ??
        new MetricLabels({ isInstalledProvider: (name) => props.providers.isInstalled(name) }),
      events: props.events,
      logger: props.logger,
    });
    this.pendingStatuses = new PendingPodStatusWrites({
      writer: this.podStatuses,
      journal: props.podStatusJournal,
      serialized: (targetPath, fn) => this.serialized(targetPath, fn),
      initialBackoffMs: props.podStatusRetry?.initialMs,
      maxBackoffMs: props.podStatusRetry?.maxMs,
      onRetry: (status, err, failures, retryInMs) =>
        this.reporter.podStatusRetrying(status, err, failures, retryInMs),
      onGaveUp: (status, err) => this.reporter.podStatusRefused(status, err),
      onFollowUpFailed: (status, err) => this.reporter.podStatusFollowUpFailed(status, err),
      onJournalNotCleaned: (targetPath, err) => this.reporter.podStatusJournalNotCleaned(targetPath, err),
    });
  }

  /**
   * At start, before CSI is served: owes again every SPCPS write the journal holds whose target path is
   * still a mount point (the driver restarted before writing it); other entries are dropped. Returns the
   * number of writes resumed. The journal checks each entry's shape; the path is only looked up in the
   * mount table here.
   */
  resumePendingPodStatuses(): number {
    let resumed = 0;
    for (const entry of this.props.podStatusJournal.readAll()) {
      if (!this.isMountPoint(entry.targetPath)) {
        this.pendingStatuses.cancel(entry.targetPath); // the volume is gone: nothing is owed
        continue;
      }
      this.pendingStatuses.submit({
        status: { ...entry, remount: false },
        written: () => this.syncResumedVolume(entry),
      });
      resumed++;
    }
    return resumed;
  }

  /** NodePublishVolume; rejects with a PublishError. `deadline` is kubelet's call deadline. */
  async publish(req: NodePublishVolumeRequest, deadline?: Date): Promise<void> {
    const request = parsePublishRequest(req);
    return this.serialized(request.targetPath, () => this.publishVolume(request, deadline));
  }

  private async publishVolume(request: PublishRequest, deadline?: Date): Promise<void> {
    const { targetPath, pod } = request;
    const report = this.reporter.begin(request);
    let remount = false;
    let mountedHere = false;
    const checkFailed = (err: unknown) =>
      PublishError.wrap(
        `failed to check the target path of pod ${pod.namespace}/${pod.name}`,
        err,
        ErrorReason.UnexpectedTargetPath,
      );
    try {
      // Before the directory is created. csi-sanity's mock provider (an empty tmpfs, no pod) mounts
      // wherever the sanity run says, as upstream's.
      try {
        if (request.providerName.toLowerCase() !== SANITY_MOCK_PROVIDER)
          this.podStatuses.checkTargetPathShape(pod, targetPath);
      } catch (err) {
        throw checkFailed(err);
      }
      remount = await this.ensureMountPoint(targetPath);
      if (remount && !this.props.rotation) return report.unchanged(); // idempotent: nothing ever refreshes it
      if (remount && this.props.rotation?.isFresh(targetPath)) {
        return report.unchanged(
          'republish skipped: the volume was checked less than one rotation poll interval ago',
        );
      }
      if (request.providerName.toLowerCase() === SANITY_MOCK_PROVIDER) {
        if (!remount) mountedHere = await this.mountTmpfs(targetPath);
        return report.unchanged();
      }

      const { spc, provider, parameters } = await resolveSecretProviderClass(
        this.props.secretProviderClasses,
        request,
        report,
      );
      if (!request.readonly) throw PublishError.invalidArgument('Readonly is not true in request');
      checkServiceAccountTokens(request, this.props.tokenPolicy.tokenPolicy(), this.driverName);
      // The pod read (an API round trip, first mount only) runs while the tmpfs is mounted; both settle
      // before the provider is asked for anything, and a failed pod check wins over a failed mount (the
      // error it gave when it ran first). The path's shape was checked before the directory existed; a
      // failed check unmounts what this call mounted, as any failed first mount does.
      const [podCheck, mount] = await Promise.allSettled([
        this.podStatuses.checkTargetPath(pod, request.spcName, targetPath),
        remount ? Promise.resolve(false) : this.mountTmpfs(targetPath),
      ]);
      if (mount.status === 'fulfilled') mountedHere = mount.value;
      if (podCheck.status === 'rejected') throw checkFailed(podCheck.reason);
      if (mount.status === 'rejected') throw mount.reason;

      const answer = await this.props.providers
        .mount(provider, buildMountRequest({ ...request, parameters }), deadline)
        .catch((err: unknown) => {
          throw PublishError.wrap(
            `failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}`,
            err,
            ErrorReason.GRPCProviderError,
          );
        });

      const contentChanged = this.writeFiles(request, answer.files);
      if (contentChanged) this.unsynced.add(targetPath);

      const status: PublishedStatus = {
        pod,
        spcName: request.spcName,
        targetPath,
        objectVersions: answer.objectVersions,
        remount,
      };
      // Secret sync follows the SPCPS (a bare pod's synced Secrets are owned by it).
      const syncAfterwards = () =>
        this.syncSecrets(report, {
          pod,
          spc,
          targetPath,
          objectVersions: answer.objectVersions,
          contentChanged: this.unsynced.delete(targetPath), // this call's change, or one not synced yet
          remount,
        });
      const owed = this.pendingStatuses.has(targetPath) || !this.podStatuses.isUnchanged(status);
      const inBackground = owed && this.journalPodStatus(report, status);
      if (owed && !inBackground) await this.savePodStatus(status);
      this.props.rotation?.recordSuccess(targetPath);

      report.published({
        remount,
        contentChanged,
        objects: answer.objectVersions.length,
        files: answer.files.length,
        lastKnownContent: answer.lastKnownContent,
      });
      if (inBackground) this.pendingStatuses.submit({ status, written: syncAfterwards });
      else await syncAfterwards();
    } catch (err) {
      const failure = PublishError.from(err, ErrorReason.FailedToMount);
      // A failed first mount leaves nothing behind, so kubelet's retry starts fresh.
      if (mountedHere)
        await this.props.mounter.unmount(targetPath).catch((e: unknown) => report.cleanupFailed(e));
      report.failed(failure, remount);
      // On a remount keep the last good content: an error here makes kubelet tear the volume down (k8s#121271).
      if (remount) return;
      throw failure;
    }
  }

  /**
   * NodeUnpublishVolume: unmount, then remove the empty directory; a missing target is success. Nothing
   * is deleted inside the target (upstream empties it first): unmounting the tmpfs frees its content, and
   * a directory that is still mounted or holds anything else is an error, never emptied.
   */
  async unpublish(req: NodeUnpublishVolumeRequest): Promise<void> {
    const { volumeId, targetPath } = parseUnpublishRequest(req);
    return this.serialized(targetPath, async () => {
      try {
        await this.props.mounter.cleanupMountPoint(targetPath);
      } catch (err) {
        this.reporter.unpublishFailed();
        throw PublishError.internal(
          `failed to clean and unmount target path ${targetPath}, err: ${(err as Error).message}`,
          ErrorReason.FailedToMount,
        );
      }
      this.props.rotation?.forget(targetPath);
      this.unsynced.delete(targetPath);
      this.pendingStatuses.cancel(targetPath);
      forgetVolume(targetPath);
      // Upstream leaves the SPCPS to the garbage collector (pod deleted → SPCPS deleted); deleting it here
      // also covers a slow or absent GC. In the background: the pod's teardown never waits for the API
      // server (an outage would otherwise hold every unmount for the request timeout).
      this.inBackground(
        this.podStatuses
          .remove(targetPath)
          .catch((err: unknown) => this.reporter.podStatusNotDeleted(targetPath, err)),
      );
      this.props.onUnpublished?.(targetPath);
      this.reporter.unpublished(volumeId, targetPath);
    });
  }

  /**
   * Resolves when the work calls left running in the background has finished, SPCPS writes still owed
   * and the secret sync that follows a written one included (tests; shutdown, raced with a timeout: a
   * write that keeps failing is retried for as long as its volume stays published).
   */
  async whenIdle(): Promise<void> {
    while (this.background.size > 0 || this.pendingStatuses.busy) {
      await Promise.all([...this.background]);
      await this.pendingStatuses.idle();
    }
  }

  /** Shutdown: no more SPCPS retries; the journal keeps what is still owed for the next start. */
  stop(): void {
    this.pendingStatuses.stop();
  }

  /**
   * Records the SPCPS write the publish still owes; true when it was recorded (the write then runs after
   * the answer). False when the journal cannot be written: the caller writes it before answering, so a
   * restart can never lose it.
   */
  private journalPodStatus(report: PublishReport, status: PendingPodStatus): boolean {
    try {
      this.props.podStatusJournal.record(status);
      return true;
    } catch (err) {
      report.podStatusJournalFailed(this.props.podStatusJournal.dir, err);
      return false;
    }
  }

  /** The SPCPS write before the answer (upstream's order): its failure fails the publish, as upstream. */
  private async savePodStatus(status: PublishedStatus): Promise<void> {
    this.pendingStatuses.cancel(status.targetPath); // this write replaces one still owed
    await this.podStatuses.save(status).catch((err: unknown) => {
      throw PublishError.wrap(
        `failed to create secret provider class pod status for pod ${status.pod.namespace}/${status.pod.name}`,
        err,
        ErrorReason.FailedToCreatePodStatus,
      );
    });
  }

  /** After a restart, the SPCPS of a volume was written from the journal: its secret sync follows. */
  private async syncResumedVolume(entry: PendingPodStatus): Promise<void> {
    if (!this.props.onPublished) return;
    const spc = await this.props.secretProviderClasses.get(entry.pod.namespace, entry.spcName);
    await this.props.onPublished({ ...entry, spc, contentChanged: true, remount: false });
  }

  private isMountPoint(targetPath: string): boolean {
    try {
      return this.props.mounter.isMountPoint(targetPath);
    } catch {
      return false; // gone
    }
  }

  private inBackground(work: Promise<void>): void {
    const tracked = work.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** True when the target is already a working mount point (a republish). */
  private async ensureMountPoint(targetPath: string): Promise<boolean> {
    try {
      return (await this.props.mounter.ensureMountPoint(targetPath)).mounted;
    } catch (err) {
      throw PublishError.internal(
        `failed to check if target path ${targetPath} is mount point, err: ${(err as Error).message}`,
        ErrorReason.FailedToEnsureMountPoint,
      );
    }
  }

  /** Mounts the tmpfs; resolves true (it was mounted by this call). */
  private async mountTmpfs(targetPath: string): Promise<true> {
    try {
      await this.props.mounter.mountTmpfs(targetPath);
      return true;
    } catch (err) {
      throw PublishError.unknown(
        `failed to mount tmpfs at ${targetPath}, err: ${(err as Error).message}`,
        ErrorReason.FailedToMount,
      );
    }
  }

  /** Writes the provider's files atomically; true when the content on disk changed. */
  private writeFiles(request: PublishRequest, files: Parameters<typeof writePayloadAtomically>[1]): boolean {
    if (files.length === 0) return false; // legacy providers write the files themselves
    try {
      return writePayloadAtomically(request.targetPath, files).changed;
    } catch (err) {
      throw PublishError.unknown(
        `failed to mount secrets store objects for pod ${request.pod.namespace}/${request.pod.name}, err: failed to write file: ${(err as Error).message}`,
        ErrorReason.FileWriteError,
      );
    }
  }

  /** Secret sync after a successful provider call; its failure never fails the mount. */
  private async syncSecrets(report: PublishReport, volume: PublishedVolume): Promise<void> {
    await this.props.onPublished?.(volume).catch((err: unknown) => report.syncFailed(err));
  }

  /** Calls for one target path run one at a time (kubelet may retry while a call is still running). */
  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => current);
    this.locks.set(key, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }
}
