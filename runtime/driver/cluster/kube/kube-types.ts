// The slice of the Kubernetes object model the driver reads and writes. Hand-written rather than taken
// from kubernetes-models (a dev dependency that the runtime image does not ship).

/** `metav1.OwnerReference`. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** `metav1.ObjectMeta` as the API server returns it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** Any Kubernetes object: apiVersion, kind, metadata and whatever else the kind has. */
export interface KubeResourceObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A list answer: items plus the collection's resourceVersion (the watch starting point). */
export interface KubeList<T extends KubeResourceObject = KubeResourceObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** One line of a watch stream. */
export interface WatchEvent<T extends KubeResourceObject = KubeResourceObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** `core/v1` Secret. */
export interface Secret extends KubeResourceObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}

/** `core/v1` Pod (the fields the driver reads). */
export interface Pod extends KubeResourceObject {
  spec?: {
    nodeName?: string;
    serviceAccountName?: string;
    volumes?: Array<{
      name: string;
      csi?: { driver: string; readOnly?: boolean; volumeAttributes?: Record<string, string> };
      [source: string]: unknown;
    }>;
    [field: string]: unknown;
  };
  status?: { phase?: string; [field: string]: unknown };
}

/** One `spec.secretObjects[]` entry of a SecretProviderClass. */
export interface SecretObject {
  secretName?: string;
  type?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  data?: Array<{ objectName?: string; key?: string }>;
}

/** `secrets-store.csi.x-k8s.io/v1` SecretProviderClass. */
export interface SecretProviderClass extends KubeResourceObject {
  spec: {
    provider?: string;
    parameters?: Record<string, string>;
    secretObjects?: SecretObject[];
  };
}

/** `secrets-store.csi.x-k8s.io/v1` SecretProviderClassPodStatus (status only, no spec). */
export interface SecretProviderClassPodStatus extends KubeResourceObject {
  status?: {
    podName?: string;
    secretProviderClassName?: string;
    mounted?: boolean;
    targetPath?: string;
    objects?: Array<{ id: string; version: string }>;
  };
}

/** `storage.k8s.io/v1` CSIDriver (the fields that decide where kubelet puts service-account tokens). */
export interface CsiDriver extends KubeResourceObject {
  spec?: {
    tokenRequests?: Array<{ audience: string; expirationSeconds?: number }>;
    serviceAccountTokenInSecrets?: boolean;
    requiresRepublish?: boolean;
    podInfoOnMount?: boolean;
  };
}

/** `core/v1` Event (the fields we write). */
export interface KubeEvent extends KubeResourceObject {
  involvedObject: {
    apiVersion?: string;
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    fieldPath?: string;
  };
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  reportingComponent?: string;
  reportingInstance?: string;
}
