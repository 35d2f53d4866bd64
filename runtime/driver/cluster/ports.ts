// What the node server needs from the cluster, as four narrow interfaces. main.ts binds them to the
// Kubernetes client (kube-bindings.ts); keeping them narrow keeps the publish algorithm readable and lets
// a test bind them to the same real API server through other means.
import type { Pod, SecretProviderClass, SecretProviderClassPodStatus } from './kube/kube-types';

/** Reads SecretProviderClasses (a watch cache in production). */
export interface SecretProviderClassSource {
  /**
   * The SPC `namespace/name`. Rejects when it does not exist, with the API server's wording:
   * `secretproviderclasses.secrets-store.csi.x-k8s.io "<name>" not found`.
   */
  get(namespace: string, name: string): Promise<SecretProviderClass>;
}

/** Reads pods (once per volume, to check its target path): this node's pod cache, else a direct GET. */
export interface PodSource {
  /**
   * The pod `namespace/name` of the reference; a cached copy only when it has the reference's UID.
   * Rejects with the API server's error when it cannot be read.
   */
  getPod(pod: PodReference): Promise<Pod>;
}

/** Writes SecretProviderClassPodStatus objects. */
export interface PodStatusStore {
  /** Creates the object, or on AlreadyExists overwrites its node label, status and owner references. */
  createOrUpdate(podStatus: SecretProviderClassPodStatus): Promise<void>;
  /**
   * Deletes this node's SecretProviderClassPodStatus objects whose `status.targetPath` is `targetPath`
   * (the path holds the pod UID, so an object taken over by a re-created pod is left alone). `known` names
   * the object written by this process, when it has one; otherwise the node's objects are searched.
   */
  deleteForTargetPath(
    targetPath: string,
    nodeId: string,
    known?: { namespace: string; name: string },
  ): Promise<void>;
}

/** Where kubelet puts the service-account tokens for this driver, from its CSIDriver object. */
export interface ServiceAccountTokenPolicy {
  /** The CSIDriver has `tokenRequests`: kubelet sends tokens (and overwrites a pod's value). */
  readonly requested: boolean;
  /** `serviceAccountTokenInSecrets` (KEP-5538): kubelet sends them in `secrets`, not the volume context. */
  readonly inSecrets: boolean;
}

/** The driver's own CSIDriver object (a watch of one object in production). */
export interface TokenPolicySource {
  /** The policy, or undefined while the CSIDriver has not been read yet (the API server is away). */
  tokenPolicy(): ServiceAccountTokenPolicy | undefined;
}

/** The pod a volume belongs to (from the volume context). */
export interface PodReference {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** Records Kubernetes Events on pods; never throws and never blocks the mount path. */
export interface PodEventRecorder {
  record(pod: PodReference, type: 'Normal' | 'Warning', reason: string, message: string): void;
}
