// NodePublishVolume and NodeUnpublishVolume: upstream's algorithm step by step (reference §2.3), with
// the same gRPC codes and texts, plus what upstream lacks: a rotation interval counted from the last
// successful check, a re-resolved provider socket, payload validation before any write, Events for
// failed remounts and rotations, and a secret-sync call after content changes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../../common/logging/logger';
import { forgetVolume, writePayloadAtomically } from '../volume/atomic-writer';
import type {
  PodEventRecorder,
  PodReference,
  PodSource,
  PodStatusStore,
  SecretProviderClassSource,
} from '../cluster/ports';
import type { DriverMetrics } from '../report/driver-metrics';
import { OS_TYPE } from '../report/driver-metrics';
import type { SecretProviderClass } from '../cluster/kube/kube-types';
import type { Mounter } from '../volume/mounter';
import {
  DEFAULT_DRIVER_NAME,
  NodePublishVolumeRequest,
  NodeUnpublishVolumeRequest,
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  POD_UID_KEY,
  PROVIDER_NAME_KEY,
  SECRET_PROVIDER_CLASS_KEY,
} from '../../wire/csi';
import { DEFAULT_PERMISSION, ObjectVersion } from '../../wire/provider-v1alpha1';
import {
  buildMountAttributes,
  encodeMountSecrets,
  goJsonOfStringMap,
} from '../provider-client/mount-request';
import { buildPodStatus, podVolumeMismatch, targetPathMismatch } from '../cluster/pod-status';
import type { ProviderClients } from '../provider-client/provider-clients';
import { ErrorReason, PublishError } from './publish-error';
import type { RotationGate } from '../volume/rotation-gate';

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

/** Everything the publisher works with. */
export interface NodePublisherProps {
  /** `--nodeid`: the SPCPS node label. */
  readonly nodeId: string;
  readonly mounter: Mounter;
  readonly providers: ProviderClients;
  readonly secretProviderClasses: SecretProviderClassSource;
  readonly podStatuses: PodStatusStore;
  /** Pods, read when a volume's SPCPS is first written, to check its target path against the pod. */
  readonly pods: PodSource;
  /** The CSI driver name a pod's volume must name. @default 'secrets-store.csi.k8s.io' */
  readonly driverName?: string;
  readonly events: PodEventRecorder;
  readonly metrics: DriverMetrics;
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

/** The path upstream's csi-sanity run uses with the `mock_provider` shortcut. */
const SANITY_MOCK_PROVIDER = 'mock_provider';

export class NodePublisher {
  private readonly locks = new Map<string, Promise<void>>();
  /** Per target path: the SPCPS last written, so an unchanged rotation check costs no API write. */
  private readonly writtenStatus = new Map<string, string>();
  /** Per target path: where its SPCPS lives, so NodeUnpublishVolume can delete it without a search. */
  private readonly statusObjects = new Map<string, { namespace: string; name: string }>();

  constructor(private readonly props: NodePublisherProps) {}

  /** NodePublishVolume; rejects with a PublishError. `deadline` is kubelet's call deadline. */
  async publish(req: NodePublishVolumeRequest, deadline?: Date): Promise<void> {
    // Argument checks, in upstream's order and wording.
    if (!req.volume_capability) throw PublishError.invalidArgument('Volume capability missing in request');
    if (!req.volume_id) throw PublishError.invalidArgument('Volume ID missing in request');
    if (!req.target_path) throw PublishError.invalidArgument('Target path missing in request');
    const volumeContext = req.volume_context ?? {};
    if (Object.keys(volumeContext).length === 0)
      throw PublishError.invalidArgument('Volume attributes missing in request');
    const targetPath = req.target_path;
    return this.serialized(targetPath, () => this.publishLocked(req, targetPath, volumeContext, deadline));
  }

  private async publishLocked(
    req: NodePublishVolumeRequest,
    targetPath: string,
    volumeContext: Record<string, string>,
    deadline?: Date,
  ): Promise<void> {
    const { metrics, logger } = this.props;
    const spcName = volumeContext[SECRET_PROVIDER_CLASS_KEY] ?? '';
    const pod: PodReference = {
      name: volumeContext[POD_NAME_KEY] ?? '',
      namespace: volumeContext[POD_NAMESPACE_KEY] ?? '',
      uid: volumeContext[POD_UID_KEY] ?? '',
    };
    let providerLabel = volumeContext[PROVIDER_NAME_KEY] ?? '';
    const log = logger.child({
      volumeId: req.volume_id,
      targetPath,
      pod: `${pod.namespace}/${pod.name}`,
      secretProviderClass: spcName,
    });

    let mounted: boolean;
    try {
      mounted = (await this.props.mounter.ensureMountPoint(targetPath)).mounted;
    } catch (err) {
      metrics.nodePublishError.inc({
        os_type: OS_TYPE,
        provider: providerLabel,
        error_type: ErrorReason.FailedToEnsureMountPoint,
      });
      throw new PublishError(
        `failed to check if target path ${targetPath} is mount point, err: ${(err as Error).message}`,
        13,
        ErrorReason.FailedToEnsureMountPoint,
      );
    }
    const remount = mounted;
    if (mounted && !this.props.rotation) {
      // Idempotent publish: already mounted and nothing will ever refresh it.
      metrics.nodePublish.inc({ os_type: OS_TYPE, provider: providerLabel });
      return;
    }
    if (mounted && this.props.rotation?.isFresh(targetPath)) {
      log.debug('republish skipped: the volume was checked less than one rotation poll interval ago');
      metrics.nodePublish.inc({ os_type: OS_TYPE, provider: providerLabel });
      return;
    }

    let mountedHere = false;
    const rotationStarted = Date.now();
    try {
      if (providerLabel.toLowerCase() === SANITY_MOCK_PROVIDER) {
        if (!mounted) await this.mountTmpfs(targetPath, () => (mountedHere = true));
        metrics.nodePublish.inc({ os_type: OS_TYPE, provider: providerLabel });
        return;
      }
      if (!spcName)
        throw PublishError.unknown('secretProviderClass is not set', ErrorReason.SecretProviderClassNotFound);
      let spc: SecretProviderClass;
      try {
        spc = await this.props.secretProviderClasses.get(pod.namespace, spcName);
      } catch (err) {
        throw PublishError.unknown(
          `failed to get secretproviderclass ${pod.namespace}/${spcName}, error: ${(err as Error).message}`,
          ErrorReason.SecretProviderClassNotFound,
        );
      }
      const provider = spc.spec?.provider ?? '';
      if (!provider)
        throw PublishError.unknown(
          `provider not set in ${pod.namespace}/${spcName}`,
          ErrorReason.ProviderError,
        );
      providerLabel = provider;
      const parameters = spc.spec?.parameters ?? {};
      if (Object.keys(parameters).length === 0) {
        throw PublishError.unknown(
          `parameters not set in ${pod.namespace}/${spcName}`,
          ErrorReason.ProviderError,
        );
      }
      const secrets = req.secrets ?? {};
      const attributes = buildMountAttributes(parameters, volumeContext, secrets);
      if (!req.readonly) throw PublishError.invalidArgument('Readonly is not true in request');

      if (!mounted) await this.mountTmpfs(targetPath, () => (mountedHere = true));

      let result;
      try {
        result = await this.props.providers.mount(
          provider,
          {
            attributes: goJsonOfStringMap(attributes),
            secrets: encodeMountSecrets(secrets),
            target_path: targetPath,
            permission: DEFAULT_PERMISSION,
            current_object_version: [],
          },
          deadline,
        );
      } catch (err) {
        const reason = (err as { reason?: string }).reason ?? ErrorReason.GRPCProviderError;
        throw PublishError.unknown(
          `failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}, err: ${(err as Error).message}`,
          reason,
        );
      }

      let contentChanged = false;
      if (result.files.length > 0) {
        try {
          contentChanged = writePayloadAtomically(targetPath, result.files).changed;
        } catch (err) {
          throw PublishError.unknown(
            `failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}, err: failed to write file: ${(err as Error).message}`,
            ErrorReason.FileWriteError,
          );
        }
      }

      const mismatch = targetPathMismatch(targetPath, pod.uid);
      if (mismatch) {
        throw PublishError.unknown(
          `failed to create secret provider class pod status for pod ${pod.namespace}/${pod.name}, err: ${mismatch}`,
          ErrorReason.UnexpectedTargetPath,
        );
      }
      // Checked against the pod itself once per volume (when its SPCPS is first written), not per republish.
      if (!this.writtenStatus.has(targetPath)) await this.checkTargetPathAgainstPod(pod, spcName, targetPath);
      const podStatus = buildPodStatus({
        pod,
        spcName,
        nodeId: this.props.nodeId,
        targetPath,
        objectVersions: result.objectVersions,
      });
      const statusKey = JSON.stringify([podStatus.metadata, podStatus.status]);
      try {
        if (!remount || this.writtenStatus.get(targetPath) !== statusKey) {
          await this.props.podStatuses.createOrUpdate(podStatus);
          this.writtenStatus.set(targetPath, statusKey);
          this.statusObjects.set(targetPath, { namespace: pod.namespace, name: podStatus.metadata.name! });
        }
      } catch (err) {
        throw PublishError.unknown(
          `failed to create secret provider class pod status for pod ${pod.namespace}/${pod.name}, err: ${(err as Error).message}`,
          ErrorReason.FailedToCreatePodStatus,
        );
      }

      this.props.rotation?.recordSuccess(targetPath);
      metrics.nodePublish.inc({ os_type: OS_TYPE, provider });
      if (remount) {
        metrics.rotationReconcile.inc({ os_type: OS_TYPE, provider, rotated: String(contentChanged) });
        metrics.rotationReconcileDuration.observe(
          { os_type: OS_TYPE },
          (Date.now() - rotationStarted) / 1000,
        );
        if (contentChanged) {
          this.props.events.record(
            pod,
            'Normal',
            'MountRotationComplete',
            `successfully rotated mounted contents for spc ${pod.namespace}/${spcName}`,
          );
        }
      }
      log.info(
        remount ? (contentChanged ? 'volume content rotated' : 'volume content unchanged') : 'volume mounted',
        {
          objects: result.objectVersions.length,
          files: result.files.length,
        },
      );
      if (this.props.onPublished) {
        await this.props
          .onPublished({
            pod,
            spc,
            targetPath,
            objectVersions: result.objectVersions,
            contentChanged,
            remount,
          })
          .catch((err: unknown) =>
            log.warn('secret sync after publish failed', { error: (err as Error).message }),
          );
      }
    } catch (err) {
      const publishError =
        err instanceof PublishError
          ? err
          : PublishError.unknown((err as Error).message, ErrorReason.FailedToMount);
      metrics.nodePublishError.inc({
        os_type: OS_TYPE,
        provider: providerLabel,
        error_type: publishError.reason,
      });
      if (mountedHere) {
        // A failed first mount leaves nothing behind, so kubelet's retry starts fresh.
        await this.props.mounter
          .unmount(targetPath)
          .catch((unmountErr: unknown) =>
            log.error('unmounting after a failed publish failed', { error: (unmountErr as Error).message }),
          );
      }
      if (remount) {
        // Keep the last good content: an error here makes kubelet tear the volume down (k8s#121271).
        metrics.rotationReconcileError.inc({
          os_type: OS_TYPE,
          provider: providerLabel,
          rotated: 'false',
          error_type: publishError.reason,
        });
        this.props.events.record(
          pod,
          'Warning',
          'MountRotationFailed',
          `failed to rotate mounted contents for spc ${pod.namespace}/${spcName}, the previous content is kept: ${publishError.message}`,
        );
        log.warn('remount failed; the previous content is kept', {
          error: publishError.message,
          reason: publishError.reason,
        });
        return;
      }
      log.warn('publish failed', { error: publishError.message, reason: publishError.reason });
      throw publishError;
    }
  }

  /** NodeUnpublishVolume: unmount and remove the directory; a missing target is success. */
  async unpublish(req: NodeUnpublishVolumeRequest): Promise<void> {
    if (!req.volume_id) throw PublishError.invalidArgument('Volume ID missing in request');
    if (!req.target_path) throw PublishError.invalidArgument('Target path missing in request');
    const targetPath = req.target_path;
    return this.serialized(targetPath, async () => {
      try {
        if (fs.existsSync(targetPath) && this.props.mounter.isMountPoint(targetPath)) {
          // Clear the tmpfs first, as upstream does, so nothing lingers if a lazy unmount is in play.
          for (const entry of fs.readdirSync(targetPath))
            fs.rmSync(path.join(targetPath, entry), { recursive: true, force: true });
        }
        await this.props.mounter.cleanupMountPoint(targetPath);
      } catch (err) {
        this.props.metrics.nodeUnpublishError.inc({ os_type: OS_TYPE });
        throw new PublishError(
          `failed to clean and unmount target path ${targetPath}, err: ${(err as Error).message}`,
          13,
          ErrorReason.FailedToMount,
        );
      }
      this.props.rotation?.forget(targetPath);
      this.writtenStatus.delete(targetPath);
      forgetVolume(targetPath);
      // Upstream leaves the SPCPS to the garbage collector (pod deleted → SPCPS deleted); deleting it here
      // also covers a slow or absent GC. Best effort: an API outage must not block the pod's teardown.
      await this.props.podStatuses
        .deleteForTargetPath(targetPath, this.props.nodeId, this.statusObjects.get(targetPath))
        .catch((err: unknown) =>
          this.props.logger.warn(
            'secretproviderclasspodstatus not deleted; the garbage collector will remove it with the pod',
            {
              targetPath,
              error: (err as Error).message,
            },
          ),
        );
      this.statusObjects.delete(targetPath);
      this.props.onUnpublished?.(targetPath);
      this.props.metrics.nodeUnpublish.inc({ os_type: OS_TYPE });
      this.props.logger.info('volume unmounted', { volumeId: req.volume_id, targetPath });
    });
  }

  /** Upstream's pod check of an SPCPS target path (reference §2.3/§3.2); throws a PublishError. */
  private async checkTargetPathAgainstPod(
    pod: PodReference,
    spcName: string,
    targetPath: string,
  ): Promise<void> {
    const failure = (message: string, reason: string) =>
      PublishError.unknown(
        `failed to create secret provider class pod status for pod ${pod.namespace}/${pod.name}, err: ${message}`,
        reason,
      );
    let found;
    try {
      found = await this.props.pods.getPod(pod.namespace, pod.name);
    } catch (err) {
      throw failure(
        `failed to get pod ${pod.namespace}/${pod.name}, err: ${(err as Error).message}`,
        ErrorReason.PodNotFound,
      );
    }
    const mismatch = podVolumeMismatch(
      found,
      targetPath,
      spcName,
      this.props.driverName ?? DEFAULT_DRIVER_NAME,
    );
    if (mismatch) throw failure(mismatch.message, mismatch.reason);
  }

  private async mountTmpfs(targetPath: string, onMounted: () => void): Promise<void> {
    try {
      await this.props.mounter.mountTmpfs(targetPath);
    } catch (err) {
      throw PublishError.unknown(
        `failed to mount tmpfs at ${targetPath}, err: ${(err as Error).message}`,
        ErrorReason.FailedToMount,
      );
    }
    onMounted();
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
