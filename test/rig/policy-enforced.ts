// A ValidatingAdmissionPolicy is enforced a moment after it and its binding are stored (the apiserver
// type-checks and loads it asynchronously): tests wait for it with an object the policy must reject.
import type { KubeObject } from '../../lib/core/kube-object';
import { KubeApi, KubeApiError } from '../../harness/rig/kube-api';

/** Polls a server-side dry-run of `mustBeRejected` until the apiserver answers 422 (bounded). */
export async function waitUntilPolicyEnforced(
  api: KubeApi,
  policyName: string,
  mustBeRejected: KubeObject,
  timeoutMs = 60000,
): Promise<void> {
  await api.waitFor(
    `ValidatingAdmissionPolicy ${policyName} enforced`,
    async () => {
      try {
        await api.apply(mustBeRejected, { dryRun: true });
        return false;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 422) return true;
        throw error;
      }
    },
    (enforced) => enforced,
    timeoutMs,
  );
}
