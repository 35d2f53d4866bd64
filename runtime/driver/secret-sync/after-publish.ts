// The node server's `onPublished` hook bound to the secret-sync controller. It passes on whether the
// provider call changed the files, so an unchanged rotation check of a volume whose Secrets are in sync
// makes no API call (110 volumes x every poll interval would otherwise be GETs each). A first mount
// always syncs; a deleted Secret is re-created by the controller's watch, drift by its periodic resync.
import type { SecretSyncController, SyncedVolume } from './secret-sync-controller';

/** What the node server reports after a successful provider call (its PublishedVolume has these). */
export interface PublishedContent extends Omit<SyncedVolume, 'contentChanged'> {
  /** The files on disk changed in this call. */
  readonly contentChanged: boolean;
  /** A republish (rotation check), not the first mount. */
  readonly remount: boolean;
}

export function syncSecretsAfterPublish(
  controller: SecretSyncController,
): (volume: PublishedContent) => Promise<void> {
  return async (volume) => {
    // Queued, not awaited: the pod's start does not wait for the Secret (upstream's controller syncs
    // after NodePublishVolume has answered, too).
    controller.enqueue({
      pod: volume.pod,
      spc: volume.spc,
      targetPath: volume.targetPath,
      contentChanged: volume.contentChanged || !volume.remount,
    });
  };
}
