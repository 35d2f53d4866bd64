import * as pulumi from '@pulumi/pulumi';
import { ServiceAccount } from '@pulumi/kubernetes/core/v1';
import { WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION } from '../core/workload-wiring';

/** What a team's ServiceAccount carries. */
export interface TeamServiceAccountProps {
  readonly name: pulumi.Input<string>;
  readonly namespace: pulumi.Input<string>;
  readonly labels?: Record<string, string>;
  /** The workload identity's client id, annotated for the webhook; none with the add-on identity. */
  readonly workloadIdentityClientId?: pulumi.Input<string>;
}

/** The ServiceAccount a team's pods run as, annotated with the workload identity's client id when there is one. */
export function teamServiceAccount(
  resourceName: string,
  props: TeamServiceAccountProps,
  opts: pulumi.CustomResourceOptions,
): ServiceAccount {
  return new ServiceAccount(
    resourceName,
    {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: props.labels,
        ...(props.workloadIdentityClientId !== undefined
          ? { annotations: { [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: props.workloadIdentityClientId } }
          : {}),
      },
    },
    opts,
  );
}
