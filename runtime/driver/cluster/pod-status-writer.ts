// The volume's SecretProviderClassPodStatus. Before any provider call, the target path is checked
// (upstream's CVE-2020-8568 guard: against the volume context on every call, against the pod itself once
// per volume); after the write, the SPCPS is saved, skipping the API write when a republish found nothing
// new. NodeUnpublishVolume deletes it again (best effort; the garbage collector does it too, through the
// pod owner reference).
import type { ObjectVersion } from '../../wire/provider-v1alpha1';
import type { SecretProviderClassPodStatus } from './kube/kube-types';
import { ErrorReason, ReasonedError } from '../error-reasons';
import type { PodReference, PodSource, PodStatusStore } from './ports';
import { buildPodStatus, podVolumeMismatch, targetPathMismatch } from './pod-status';

/** Options of the PodStatusWriter. */
export interface PodStatusWriterProps {
  readonly store: PodStatusStore;
  /** Pods, read once per volume to check its target path against the pod (this node's cache first). */
  readonly pods: PodSource;
  /** `--nodeid`: the SPCPS node label. */
  readonly nodeId: string;
  /** The CSI driver name a pod's volume must name. */
  readonly driverName: string;
}

/** The facts of one successful provider call. */
export interface PublishedStatus {
  readonly pod: PodReference;
  readonly spcName: string;
  readonly targetPath: string;
  readonly objectVersions: readonly ObjectVersion[];
  /** A republish: the write is skipped when the SPCPS would not change. */
  readonly remount: boolean;
}

export class PodStatusWriter {
  /** Per target path: the SPCPS last written, so an unchanged rotation check costs no API write. */
  private readonly written = new Map<string, string>();
  /** Per target path: where its SPCPS lives, so NodeUnpublishVolume can delete it without a search. */
  private readonly locations = new Map<string, { namespace: string; name: string }>();
  /** Target paths whose pod check passed (it is read once per volume, not per republish). */
  private readonly checked = new Set<string>();

  constructor(private readonly props: PodStatusWriterProps) {}

  /**
   * The target path must be kubelet's path for this pod's UID: checked before anything touches the node
   * (the directory is created next); throws a ReasonedError.
   */
  checkTargetPathShape(pod: PodReference, targetPath: string): void {
    const mismatch = targetPathMismatch(targetPath, pod.uid);
    if (mismatch) throw new ReasonedError(mismatch, ErrorReason.UnexpectedTargetPath);
  }

  /**
   * The target path must be kubelet's path of this pod's volume of this driver on this SPC; rejects with
   * a ReasonedError in upstream's words. Runs before the provider is asked for anything, after
   * checkTargetPathShape (which the caller runs before it creates the directory).
   */
  async checkTargetPath(pod: PodReference, spcName: string, targetPath: string): Promise<void> {
    if (this.checked.has(targetPath)) return;
    await this.checkAgainstPod(pod, spcName, targetPath);
    this.checked.add(targetPath);
  }

  /** True when `status` is a republish whose SPCPS would be what this process last wrote (no write due). */
  isUnchanged(status: PublishedStatus): boolean {
    return status.remount && this.written.get(status.targetPath) === this.build(status).key;
  }

  /** Writes the SPCPS after a successful provider call; rejects with a ReasonedError. */
  async save(status: PublishedStatus): Promise<void> {
    const { pod, targetPath } = status;
    const { podStatus, key: statusKey } = this.build(status);
    if (status.remount && this.written.get(targetPath) === statusKey) return;
    try {
      await this.props.store.createOrUpdate(podStatus);
    } catch (err) {
      throw new ReasonedError((err as Error).message, ErrorReason.FailedToCreatePodStatus, err);
    }
    this.written.set(targetPath, statusKey);
    this.locations.set(targetPath, { namespace: pod.namespace, name: podStatus.metadata.name! });
  }

  /** The volume is gone: deletes its SPCPS; rejects with the API error (the caller only logs it). */
  async remove(targetPath: string): Promise<void> {
    this.written.delete(targetPath);
    this.checked.delete(targetPath);
    try {
      await this.props.store.deleteForTargetPath(
        targetPath,
        this.props.nodeId,
        this.locations.get(targetPath),
      );
    } finally {
      this.locations.delete(targetPath);
    }
  }

  private build(status: PublishedStatus): { podStatus: SecretProviderClassPodStatus; key: string } {
    const podStatus = buildPodStatus({
      pod: status.pod,
      spcName: status.spcName,
      nodeId: this.props.nodeId,
      targetPath: status.targetPath,
      objectVersions: status.objectVersions,
    });
    return { podStatus, key: JSON.stringify([podStatus.metadata, podStatus.status]) };
  }

  /** Upstream's pod check of an SPCPS target path (reference §2.3/§3.2). */
  private async checkAgainstPod(pod: PodReference, spcName: string, targetPath: string): Promise<void> {
    let found;
    try {
      found = await this.props.pods.getPod(pod);
    } catch (err) {
      throw new ReasonedError(
        `failed to get pod ${pod.namespace}/${pod.name}, err: ${(err as Error).message}`,
        ErrorReason.PodNotFound,
        err,
      );
    }
    const mismatch = podVolumeMismatch(found, targetPath, spcName, this.props.driverName);
    if (mismatch) throw new ReasonedError(mismatch.message, mismatch.reason);
  }
}
