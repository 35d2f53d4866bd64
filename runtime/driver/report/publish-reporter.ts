// The last phase of NodePublishVolume / NodeUnpublishVolume: what one call tells the operator, in one
// place. Metrics (DESIGN §4 labels, written here only), Events on the pod (rotation outcomes, upstream's
// reasons) and the log lines all come from the same facts, so they cannot disagree.
import type { Logger } from '../../common/logging/logger';
import type { PodEventRecorder, PodReference } from '../cluster/ports';
import { formatDuration } from '../../../lib/core/duration';
import type { LastKnownContentNotice } from '../../wire/last-known-content';
import { DriverMetrics, OS_TYPE } from './driver-metrics';
import type { MetricLabels } from './metric-labels';

/** What the reporter needs to know about the volume a call is about. */
export interface ReportedVolume {
  readonly volumeId: string;
  readonly targetPath: string;
  readonly pod: PodReference;
  readonly spcName: string;
  /** The provider label until the SPC names the real one (upstream starts from `providerName`). */
  readonly providerName: string;
}

/** The outcome of a publish that called the provider. */
export interface PublishOutcome {
  /** A republish (rotation check) rather than the first mount. */
  readonly remount: boolean;
  /** The files on disk changed. */
  readonly contentChanged: boolean;
  readonly objects: number;
  readonly files: number;
  /** The provider answered with last known content because Key Vault was unavailable. */
  readonly lastKnownContent?: LastKnownContentNotice;
}

/** Event reason of a mount given last known content (ours; upstream has no such mount). */
export const MOUNTED_LAST_KNOWN_CONTENT_REASON = 'MountedLastKnownContent';

const OUTAGE_WORDS: Record<LastKnownContentNotice['reason'], string> = {
  keyvault_server_error: 'answered with a server error',
  keyvault_timeout: 'did not answer in time',
  keyvault_throttled: 'throttled the requests',
  keyvault_network: 'could not be reached',
};

/** The SPCPS write a report line is about. */
export interface PublishedPodStatus {
  readonly pod: PodReference;
  readonly spcName: string;
  readonly targetPath: string;
}

function podStatusFields(status: PublishedPodStatus): Record<string, string> {
  return {
    pod: `${status.pod.namespace}/${status.pod.name}`,
    secretProviderClass: status.spcName,
    targetPath: status.targetPath,
  };
}

/** A failure as the reporter sees it: upstream's message and `error_type` reason. */
export interface ReportedFailure {
  readonly message: string;
  readonly reason: string;
}

/** Options of the PublishReporter. */
export interface PublishReporterProps {
  readonly metrics: DriverMetrics;
  /** Bounded label values (provider, error_type). */
  readonly labels: MetricLabels;
  readonly events: PodEventRecorder;
  readonly logger: Logger;
}

export class PublishReporter {
  constructor(private readonly props: PublishReporterProps) {}

  /** The report of one NodePublishVolume call. */
  begin(volume: ReportedVolume): PublishReport {
    return new PublishReport(this.props, volume);
  }

  unpublished(volumeId: string, targetPath: string): void {
    this.props.metrics.nodeUnpublish.inc({ os_type: OS_TYPE });
    this.props.logger.info('volume unmounted', { volumeId, targetPath });
  }

  unpublishFailed(): void {
    this.props.metrics.nodeUnpublishError.inc({ os_type: OS_TYPE });
  }

  /**
   * A background SPCPS write failed and is retried: logged at the 1st, 2nd, 4th, 8th... failure, so an
   * API server outage of hours stays a few lines per volume.
   */
  podStatusRetrying(status: PublishedPodStatus, err: unknown, failures: number, retryInMs: number): void {
    if ((failures & (failures - 1)) !== 0) return;
    this.props.logger.warn(
      'secretproviderclasspodstatus not written yet; the volume is mounted, its secret sync waits for it; retrying',
      { ...podStatusFields(status), error: (err as Error).message, failures, retryInMs },
    );
  }

  /** The API server refused a background SPCPS write for good (RBAC, validation): dropped, never synced. */
  podStatusRefused(status: PublishedPodStatus, err: unknown): void {
    const message = (err as Error).message;
    this.props.logger.error(
      'secretproviderclasspodstatus refused by the API server; not retried: the volume stays mounted without it and its Secrets are not synced until the next publish',
      { ...podStatusFields(status), error: message },
    );
    this.props.events.record(
      status.pod,
      'Warning',
      'FailedToCreatePodStatus',
      `failed to create secret provider class pod status for spc ${status.pod.namespace}/${status.spcName}; ` +
        `the volume is mounted, its secret sync waits for the next publish: ${message}`,
    );
  }

  /** What follows a written SPCPS (secret sync of a volume resumed after a restart) failed. */
  podStatusFollowUpFailed(status: PublishedPodStatus, err: unknown): void {
    this.props.logger.warn('secret sync after the secretproviderclasspodstatus was written failed', {
      ...podStatusFields(status),
      error: (err as Error).message,
    });
  }

  /** A journal entry no longer owed could not be deleted: a restart writes that SPCPS once more. */
  podStatusJournalNotCleaned(targetPath: string, err: unknown): void {
    this.props.logger.warn('pod status journal entry not deleted; a driver restart rewrites its SPCPS once', {
      targetPath,
      error: (err as Error).message,
    });
  }

  /** The SPCPS delete at unpublish is best effort: the garbage collector removes it with the pod. */
  podStatusNotDeleted(targetPath: string, err: unknown): void {
    this.props.logger.warn(
      'secretproviderclasspodstatus not deleted; the garbage collector will remove it with the pod',
      { targetPath, error: (err as Error).message },
    );
  }
}

/** One NodePublishVolume call: labels, timing and log fields gathered as the phases learn them. */
export class PublishReport {
  /** The `provider` label: `providerName` first, the SPC's provider once it is known. */
  provider: string;
  private readonly started = Date.now();
  private readonly log: Logger;

  constructor(
    private readonly props: PublishReporterProps,
    private readonly volume: ReportedVolume,
  ) {
    this.provider = volume.providerName;
    this.log = props.logger.child({
      volumeId: volume.volumeId,
      targetPath: volume.targetPath,
      pod: `${volume.pod.namespace}/${volume.pod.name}`,
      secretProviderClass: volume.spcName,
    });
  }

  /** Already mounted and nothing will refresh it, or checked less than one poll interval ago. */
  unchanged(why?: string): void {
    if (why) this.log.debug(why);
    this.props.metrics.nodePublish.inc({ os_type: OS_TYPE, provider: this.providerLabel });
  }

  published(outcome: PublishOutcome): void {
    const { metrics } = this.props;
    const provider = this.providerLabel;
    metrics.nodePublish.inc({ os_type: OS_TYPE, provider });
    if (outcome.remount) {
      metrics.rotationReconcile.inc({ os_type: OS_TYPE, provider, rotated: String(outcome.contentChanged) });
      metrics.rotationReconcileDuration.observe({ os_type: OS_TYPE }, (Date.now() - this.started) / 1000);
      if (outcome.contentChanged) {
        this.event(
          'Normal',
          'MountRotationComplete',
          `successfully rotated mounted contents for spc ${this.spcRef}`,
        );
      }
    }
    const notice = outcome.lastKnownContent;
    if (notice) {
      this.event(
        'Warning',
        MOUNTED_LAST_KNOWN_CONTENT_REASON,
        `Key Vault ${OUTAGE_WORDS[notice.reason]}, so spc ${this.spcRef} was mounted with the last content this node fetched for it, ` +
          `${formatDuration(notice.ageSeconds * 1000)} old; it is refreshed at the next rotation once Key Vault answers`,
      );
      this.log.warn('mounted last known content: Key Vault is unavailable', {
        reason: notice.reason,
        ageSeconds: notice.ageSeconds,
      });
    }
    const message = !outcome.remount
      ? 'volume mounted'
      : outcome.contentChanged
        ? 'volume content rotated'
        : 'volume content unchanged';
    this.log.info(message, { objects: outcome.objects, files: outcome.files });
  }

  /**
   * A failed call. On a remount the old content is kept and kubelet is told nothing (upstream masks it:
   * k8s#121271), so the operator learns of it here: a rotation error metric and a Warning Event.
   */
  failed(failure: ReportedFailure, remount: boolean): void {
    const { metrics, labels } = this.props;
    const provider = this.providerLabel;
    const errorType = labels.errorType(failure.reason);
    metrics.nodePublishError.inc({ os_type: OS_TYPE, provider, error_type: errorType });
    if (!remount) {
      this.log.warn('publish failed', { error: failure.message, reason: failure.reason });
      return;
    }
    metrics.rotationReconcileError.inc({
      os_type: OS_TYPE,
      provider,
      rotated: 'false',
      error_type: errorType,
    });
    this.event(
      'Warning',
      'MountRotationFailed',
      `failed to rotate mounted contents for spc ${this.spcRef}, the previous content is kept: ${failure.message}`,
    );
    this.log.warn('remount failed; the previous content is kept', {
      error: failure.message,
      reason: failure.reason,
    });
  }

  /** The tmpfs mounted by a failed first publish could not be removed again. */
  cleanupFailed(err: unknown): void {
    this.log.error('unmounting after a failed publish failed', { error: (err as Error).message });
  }

  /** The journal could not record the SPCPS write: this publish writes it before answering. */
  podStatusJournalFailed(dir: string, err: unknown): void {
    this.log.warn(
      'pod status journal not writable; the secretproviderclasspodstatus is written before answering. Make the directory writable by the driver to answer first',
      { dir, error: (err as Error).message },
    );
  }

  /** Secret sync after a successful publish failed; the mount itself stands. */
  syncFailed(err: unknown): void {
    this.log.warn('secret sync after publish failed', { error: (err as Error).message });
  }

  private get providerLabel(): string {
    return this.props.labels.provider(this.provider);
  }

  private get spcRef(): string {
    return `${this.volume.pod.namespace}/${this.volume.spcName}`;
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.props.events.record(this.volume.pod, type, reason, message);
  }
}
