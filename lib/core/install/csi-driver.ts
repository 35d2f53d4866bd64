import { KubeObject } from '../kube-object';
import { INSTALL_COMMON_LABELS, SECRETS_STORE_CSI_DRIVER_NAME } from './names';

// The CSIDriver object tells kubelet how to call the driver: no attach, pod info on mount (the Azure
// provider needs pod name/namespace), inline ephemeral volumes only, and, for rotation, periodic
// republish. fsGroupPolicy is left unset, as upstream's chart does (apiserver default).

/** Audience of the service-account token the Azure provider exchanges for an Entra token (workload identity). */
export const WORKLOAD_IDENTITY_TOKEN_AUDIENCE = 'api://AzureADTokenExchange';
/** Audience used by AKS identity binding (`useAzureTokenProxy`). */
export const IDENTITY_BINDING_TOKEN_AUDIENCE = 'api://AKSIdentityBinding';

export interface CsiDriverProps {
  /**
   * Sets `requiresRepublish`, so kubelet calls NodePublishVolume periodically and the driver can rotate.
   * @default true
   */
  readonly enableSecretRotation?: boolean;
  /**
   * Adds the token request for `api://AzureADTokenExchange`, so pods can use workload identity.
   * @default true
   */
  readonly workloadIdentity?: boolean;
  /**
   * Adds the token request for `api://AKSIdentityBinding` (AKS identity binding, provider v1.8+).
   * @default false
   */
  readonly identityBinding?: boolean;
  /**
   * `serviceAccountTokenInSecrets`: kubelet passes the tokens in NodePublishVolume `secrets` instead of
   * the volume context (KEP-5538, Kubernetes >= 1.35; a 1.34 apiserver rejects it under server-side
   * apply: "field not declared in schema"). Both our driver and upstream v1.6 read either place.
   * @default false
   */
  readonly serviceAccountTokenInSecrets?: boolean;
}

/** CSIDriver `secrets-store.csi.k8s.io`. */
export function csiDriver(props: CsiDriverProps = {}): KubeObject {
  const audiences = [
    ...((props.workloadIdentity ?? true) ? [WORKLOAD_IDENTITY_TOKEN_AUDIENCE] : []),
    ...((props.identityBinding ?? false) ? [IDENTITY_BINDING_TOKEN_AUDIENCE] : []),
  ];
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name: SECRETS_STORE_CSI_DRIVER_NAME, labels: { ...INSTALL_COMMON_LABELS } },
    spec: {
      podInfoOnMount: true,
      attachRequired: false,
      volumeLifecycleModes: ['Ephemeral'],
      requiresRepublish: props.enableSecretRotation ?? true,
      ...(audiences.length > 0 ? { tokenRequests: audiences.map((audience) => ({ audience })) } : {}),
      ...(props.serviceAccountTokenInSecrets && audiences.length > 0
        ? { serviceAccountTokenInSecrets: true }
        : {}),
    },
  };
}
