import { Construct } from 'constructs';
import {
  validateDns1123Label,
  validateDns1123Subdomain,
  validateGuid,
  validateWorkloadIdentityClientId,
  WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_USE_LABEL,
} from '../core';
import { atConstruct } from './construct-errors';
import { AbstractPod, ServiceAccount } from './plus';

// Azure workload identity: the annotated ServiceAccount the federated credential names, and the pod
// label that opts pods into the workload identity webhook.

/** Props of a ServiceAccount federated with an Entra identity (workload identity). */
export interface WorkloadIdentityServiceAccountProps {
  /** Client id of the Entra app or user-assigned managed identity the ServiceAccount is federated with. */
  readonly clientId: string;
  /**
   * Tenant id, annotated for the workload identity webhook.
   * @default - the webhook's cluster default tenant
   */
  readonly tenantId?: string;
  /**
   * Name of the ServiceAccount; the federated credential's subject is `system:serviceaccount:<ns>:<name>`.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Namespace of the ServiceAccount.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/** A ServiceAccount annotated for Azure workload identity. */
export class WorkloadIdentityServiceAccount extends Construct {
  public readonly serviceAccount: ServiceAccount;
  public readonly name: string;

  constructor(scope: Construct, id: string, props: WorkloadIdentityServiceAccountProps) {
    super(scope, id);
    this.name = props.name ?? id;
    atConstruct(this, () => {
      validateDns1123Subdomain(this.name, 'name');
      if (props.namespace !== undefined) validateDns1123Label(props.namespace, 'namespace');
      validateWorkloadIdentityClientId(props.clientId, 'clientId');
      if (props.tenantId !== undefined) validateGuid(props.tenantId, 'tenantId', 'Entra tenant id');
    });
    this.serviceAccount = new ServiceAccount(this, 'Resource', {
      metadata: {
        name: this.name,
        ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
        annotations: {
          [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: props.clientId,
          ...(props.tenantId !== undefined
            ? { [WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION]: props.tenantId }
            : {}),
        },
      },
    });
  }
}

/** Labels the pods of `workload` with `azure.workload.identity/use: "true"`. */
export function useWorkloadIdentity(workload: AbstractPod): void {
  workload.podMetadata.addLabel(WORKLOAD_IDENTITY_USE_LABEL, 'true');
}
