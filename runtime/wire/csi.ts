// The kubelet ⇄ driver contract: the subset of CSI v1 a node-only plugin for ephemeral volumes serves
// (runtime/proto/csi.proto), the volume-context keys kubelet adds with `podInfoOnMount`, and this driver's
// own volume attributes. The driver's services and every client that plays kubelet (tests, benchmarks)
// import these, so the request shapes and key spellings exist once.
import type * as grpc from '@grpc/grpc-js';
import { SECRETS_STORE_CSI_DRIVER_NAME } from '../../lib/core/install/names';
import { grpcService } from './codec/grpc-service';
import { CSI_METHODS } from './csi-messages';

/** The CSI driver name kubelet knows us by (the CSIDriver object, `--drivername`'s default). */
export const DEFAULT_DRIVER_NAME = SECRETS_STORE_CSI_DRIVER_NAME;

/** Volume-context keys kubelet sets for a CSIDriver with `podInfoOnMount: true`. */
export const POD_NAME_KEY = 'csi.storage.k8s.io/pod.name';
export const POD_NAMESPACE_KEY = 'csi.storage.k8s.io/pod.namespace';
export const POD_UID_KEY = 'csi.storage.k8s.io/pod.uid';
export const SERVICE_ACCOUNT_NAME_KEY = 'csi.storage.k8s.io/serviceAccount.name';
export const EPHEMERAL_KEY = 'csi.storage.k8s.io/ephemeral';
/**
 * The service-account tokens kubelet requests for the CSIDriver's `tokenRequests`: in `secrets` with
 * `serviceAccountTokenInSecrets` (KEP-5538), else in the volume context. Forwarded to the provider in
 * MountRequest.attributes under the same key.
 */
export const SERVICE_ACCOUNT_TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';

/** This driver's volume attributes a pod author sets: the SPC to mount, and the legacy provider name. */
export const SECRET_PROVIDER_CLASS_KEY = 'secretProviderClass';
export const PROVIDER_NAME_KEY = 'providerName';

/** `NodePublishVolumeRequest` as grpc-js decodes it (the fields the driver reads). */
export interface NodePublishVolumeRequest {
  volume_id?: string;
  target_path?: string;
  volume_capability?: unknown;
  readonly?: boolean;
  secrets?: Record<string, string>;
  volume_context?: Record<string, string>;
}

export interface NodeUnpublishVolumeRequest {
  volume_id?: string;
  target_path?: string;
}

export interface NodeStageVolumeRequest {
  volume_id?: string;
  staging_target_path?: string;
  volume_capability?: unknown;
}

export interface NodeUnstageVolumeRequest {
  volume_id?: string;
  staging_target_path?: string;
}

/** The three CSI services; `.service` is the server definition, the constructor a client. */
export type CsiServiceName = 'Identity' | 'Controller' | 'Node';

const services = new Map<CsiServiceName, grpc.ServiceClientConstructor>();

export function csiService(name: CsiServiceName): grpc.ServiceClientConstructor {
  let service = services.get(name);
  if (!service) services.set(name, (service = grpcService(`csi.v1.${name}`, CSI_METHODS[name])));
  return service;
}

/**
 * Bounds on the volume context a pod author writes (`volumeAttributes`): the driver refuses a request
 * beyond them before any work, and the provider's own bounds (runtime/provider/request-limits.ts) are
 * never reached through the driver. The tokens are kubelet's and sized like the provider's limit.
 */
export const VOLUME_CONTEXT_LIMITS = {
  /** Keys in the volume context (podInfoOnMount adds five). */
  keys: 256,
  /** One key (a Kubernetes qualified name is at most 316 characters). */
  keyBytes: 316,
  /** One value, the SPC `objects` YAML overridden from the pod included. */
  valueBytes: 128 * 1024,
  /** `csi.storage.k8s.io/serviceAccount.tokens` (a projected token is 1-2 KiB per audience). */
  serviceAccountTokensBytes: 16 * 1024,
  /** Keys and values together. */
  totalBytes: 256 * 1024,
} as const;
