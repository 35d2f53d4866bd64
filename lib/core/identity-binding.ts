import { validateIdentityBindingClientId } from './identity';
import { KubeObject } from './kube-object';
import { validateDns1123Label, validateDns1123Subdomain } from './validation/kube-names';
import { ValidationError } from './validation/validation-error';

// AKS identity binding (azure-provider §3.3): besides the AKS IdentityBinding resource (Azure side),
// the cluster must allow the pod's ServiceAccount to use the managed identity, through a ClusterRole
// granting the verb `use-managed-identity` on the identity's client id in the `cid.wi.aks.azure.com`
// group, bound to that ServiceAccount (AKS identity-binding docs; the provider's e2e tests).

/** API group AKS checks the `use-managed-identity` permission in. */
export const IDENTITY_BINDING_API_GROUP = 'cid.wi.aks.azure.com';
/** The verb a ServiceAccount needs on the client id. */
export const USE_MANAGED_IDENTITY_VERB = 'use-managed-identity';

/** Who may use which managed identity through identity binding. */
export interface IdentityBindingRbacProps {
  /** Client id of the user-assigned managed identity. */
  readonly clientId: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** The ServiceAccount the pods run as. */
  readonly serviceAccountName: string;
}

/** Name of the ClusterRole and its binding: one pair per (ServiceAccount, identity). */
export function identityBindingRbacName(props: IdentityBindingRbacProps): string {
  return `use-managed-identity:${props.namespace}:${props.serviceAccountName}:${props.clientId}`;
}

/** The ClusterRole and ClusterRoleBinding that let one ServiceAccount use one managed identity. */
export function identityBindingRbac(props: IdentityBindingRbacProps): KubeObject[] {
  validateIdentityBindingClientId(props.clientId, 'clientId');
  validateDns1123Label(props.namespace, 'namespace');
  validateDns1123Subdomain(props.serviceAccountName, 'serviceAccountName');
  const name = identityBindingRbacName(props);
  if (name.length > 253) {
    throw new ValidationError(
      'serviceAccountName',
      `"${props.serviceAccountName}" makes the ClusterRole name "${name}" longer than Kubernetes' 253 characters; use a shorter ServiceAccount name`,
    );
  }
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        {
          apiGroups: [IDENTITY_BINDING_API_GROUP],
          resources: [props.clientId],
          verbs: [USE_MANAGED_IDENTITY_VERB],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.namespace }],
    },
  ];
}
