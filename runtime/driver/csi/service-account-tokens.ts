// Part of phase 3 of NodePublishVolume: the service-account tokens must be kubelet's. Kubelet writes
// `csi.storage.k8s.io/serviceAccount.tokens` only when the CSIDriver has `tokenRequests`, into the
// volume context, or into `secrets` with `serviceAccountTokenInSecrets` (KEP-5538), overwriting whatever
// the pod put there. Anywhere else the key came from the pod author (its volumeAttributes, or its
// nodePublishSecretRef Secret) and would reach the provider as a workload-identity assertion: refused.
// Upstream takes the key from `secrets`, else from the volume context, whatever the CSIDriver says.
import { status } from '@grpc/grpc-js';
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../wire/csi';
import type { ServiceAccountTokenPolicy } from '../cluster/ports';
import { ErrorReason } from '../error-reasons';
import type { PublishRequest } from './publish-request';
import { PublishError } from './publish-error';

/** Throws when the request carries the tokens key where kubelet does not put it for this driver. */
export function checkServiceAccountTokens(
  request: PublishRequest,
  policy: ServiceAccountTokenPolicy | undefined,
  driverName: string,
): void {
  const inContext = SERVICE_ACCOUNT_TOKENS_KEY in request.volumeContext;
  const inSecrets = SERVICE_ACCOUNT_TOKENS_KEY in request.secrets;
  if (!inContext && !inSecrets) return;
  if (policy === undefined) {
    throw new PublishError(
      `the request carries ${SERVICE_ACCOUNT_TOKENS_KEY}, and the driver has not read CSIDriver ${driverName} yet (the Kubernetes API server has not answered since the driver started), so it cannot tell kubelet's tokens from a pod's; kubelet retries the mount`,
      status.UNAVAILABLE,
      ErrorReason.TokenPolicyUnknown,
    );
  }
  const forged = (where: string, why: string) =>
    PublishError.invalidArgument(
      `${SERVICE_ACCOUNT_TOKENS_KEY} in the ${where} did not come from kubelet: ${why}. ` +
        `Remove it from the pod's ${where === 'volume attributes' ? 'volumeAttributes' : 'nodePublishSecretRef Secret'}; ` +
        `to use workload identity, list the audience in the CSIDriver's spec.tokenRequests`,
    );
  if (!policy.requested) {
    throw forged(
      inContext ? 'volume attributes' : 'secrets',
      `CSIDriver ${driverName} has no tokenRequests, so kubelet sends no service-account tokens`,
    );
  }
  if (policy.inSecrets && inContext) {
    throw forged(
      'volume attributes',
      `CSIDriver ${driverName} sets serviceAccountTokenInSecrets, so kubelet sends the tokens in secrets only`,
    );
  }
  if (!policy.inSecrets && inSecrets) {
    throw forged(
      'secrets',
      `CSIDriver ${driverName} does not set serviceAccountTokenInSecrets, so kubelet sends the tokens in the volume context, and secrets holds the pod's nodePublishSecretRef data`,
    );
  }
}
