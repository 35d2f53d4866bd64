// Phase 1 of NodePublishVolume / NodeUnpublishVolume: the request's own arguments, checked in upstream's
// order and wording before anything touches the node or the cluster, and the volume context read once
// into the names every later phase uses. Ours on top: the volume context a pod author writes is bounded
// (VOLUME_CONTEXT_LIMITS) and the SecretProviderClass name must be one, so a hostile value is refused
// here, named by its key and size, never echoed whole.
import {
  NodePublishVolumeRequest,
  NodeUnpublishVolumeRequest,
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  POD_UID_KEY,
  PROVIDER_NAME_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  SERVICE_ACCOUNT_TOKENS_KEY,
  VOLUME_CONTEXT_LIMITS,
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
  checkVolumeContextSize(volumeContext);
  const spcName = volumeContext[SECRET_PROVIDER_CLASS_KEY] ?? '';
  if (spcName !== '' && !isDnsSubdomain(spcName)) {
    throw PublishError.invalidArgument(
      `volume attribute ${SECRET_PROVIDER_CLASS_KEY} ${quoted(spcName)} is not a SecretProviderClass name (a DNS subdomain: lowercase letters, digits, "-" and ".", at most 253 characters); name an SPC in the pod's own namespace`,
    );
  }
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
    spcName,
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

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/** A caller's value in an error: JSON-quoted (control characters escaped) and cut at 64 characters. */
function quoted(value: string): string {
  return value.length > 64
    ? `${JSON.stringify(value.slice(0, 64))}... (${value.length} characters)`
    : JSON.stringify(value);
}

/** VOLUME_CONTEXT_LIMITS, checked before any value is used; the message names the key, never the value. */
function checkVolumeContextSize(volumeContext: Record<string, string>): void {
  const limits = VOLUME_CONTEXT_LIMITS;
  const keys = Object.keys(volumeContext);
  const refuse = (what: string) =>
    PublishError.invalidArgument(
      `the volume attributes are too large: ${what}; keep volumeAttributes small (the SecretProviderClass holds the parameters)`,
    );
  if (keys.length > limits.keys) throw refuse(`${keys.length} keys, more than ${limits.keys}`);
  let total = 0;
  for (const key of keys) {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(volumeContext[key]);
    if (keyBytes > limits.keyBytes) throw refuse(`a key of ${keyBytes} bytes, more than ${limits.keyBytes}`);
    const max = key === SERVICE_ACCOUNT_TOKENS_KEY ? limits.serviceAccountTokensBytes : limits.valueBytes;
    if (valueBytes > max) throw refuse(`${quoted(key)} is ${valueBytes} bytes, more than ${max}`);
    total += keyBytes + valueBytes;
  }
  if (total > limits.totalBytes) throw refuse(`${total} bytes in all, more than ${limits.totalBytes}`);
}
