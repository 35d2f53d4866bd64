// Phase 1 of NodePublishVolume / NodeUnpublishVolume: the request's own arguments, checked in upstream's
// order and wording before anything touches the node or the cluster, and the volume context read once
// into the names every later phase uses.
import {
  NodePublishVolumeRequest,
  NodeUnpublishVolumeRequest,
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  POD_UID_KEY,
  PROVIDER_NAME_KEY,
  SECRET_PROVIDER_CLASS_KEY,
} from '../../wire/csi';
import type { PodReference } from '../cluster/ports';
import { PublishError } from './publish-error';

/** A NodePublishVolume request whose arguments passed upstream's checks. */
export interface PublishRequest {
  readonly volumeId: string;
  readonly targetPath: string;
  readonly readonly: boolean;
  /** The nodePublishSecretRef data (and, with KEP-5538, the service-account tokens). */
  readonly secrets: Record<string, string>;
  readonly volumeContext: Record<string, string>;
  /** The pod, as kubelet names it in the volume context. */
  readonly pod: PodReference;
  /** `secretProviderClass`; '' when the pod author left it out. */
  readonly spcName: string;
  /** `providerName`, the legacy attribute: only the first metric label and the csi-sanity shortcut. */
  readonly providerName: string;
}

/** Upstream's argument checks of NodePublishVolume, each InvalidArgument. */
export function parsePublishRequest(req: NodePublishVolumeRequest): PublishRequest {
  if (!req.volume_capability) throw PublishError.invalidArgument('Volume capability missing in request');
  if (!req.volume_id) throw PublishError.invalidArgument('Volume ID missing in request');
  if (!req.target_path) throw PublishError.invalidArgument('Target path missing in request');
  const volumeContext = req.volume_context ?? {};
  if (Object.keys(volumeContext).length === 0)
    throw PublishError.invalidArgument('Volume attributes missing in request');
  return {
    volumeId: req.volume_id,
    targetPath: req.target_path,
    readonly: req.readonly === true,
    secrets: req.secrets ?? {},
    volumeContext,
    pod: {
      name: volumeContext[POD_NAME_KEY] ?? '',
      namespace: volumeContext[POD_NAMESPACE_KEY] ?? '',
      uid: volumeContext[POD_UID_KEY] ?? '',
    },
    spcName: volumeContext[SECRET_PROVIDER_CLASS_KEY] ?? '',
    providerName: volumeContext[PROVIDER_NAME_KEY] ?? '',
  };
}

/** A NodeUnpublishVolume request whose arguments passed upstream's checks. */
export interface UnpublishRequest {
  readonly volumeId: string;
  readonly targetPath: string;
}

export function parseUnpublishRequest(req: NodeUnpublishVolumeRequest): UnpublishRequest {
  if (!req.volume_id) throw PublishError.invalidArgument('Volume ID missing in request');
  if (!req.target_path) throw PublishError.invalidArgument('Target path missing in request');
  return { volumeId: req.volume_id, targetPath: req.target_path };
}
