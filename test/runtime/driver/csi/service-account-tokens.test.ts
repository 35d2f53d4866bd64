// Where kubelet puts service-account tokens for this driver decides which copy of the tokens key is
// kubelet's: every other copy came from the pod author and is refused (the rig rows are in
// test/runtime/driver/hostile-inputs.rig.test.ts; this table covers each CSIDriver setting).
import * as grpc from '@grpc/grpc-js';
import { checkServiceAccountTokens } from '../../../../runtime/driver/csi/service-account-tokens';
import type { PublishRequest } from '../../../../runtime/driver/csi/publish-request';
import type { PublishError } from '../../../../runtime/driver/csi/publish-error';
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../../../runtime/wire/csi';

const TOKENS = '{"api://AzureADTokenExchange":{"token":"eyJ.forged.DO-NOT-LOG"}}';

function request(where: 'none' | 'context' | 'secrets'): PublishRequest {
  return {
    volumeId: 'v',
    targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/v/mount',
    readonly: true,
    volumeContext: where === 'context' ? { [SERVICE_ACCOUNT_TOKENS_KEY]: TOKENS } : {},
    secrets: where === 'secrets' ? { [SERVICE_ACCOUNT_TOKENS_KEY]: TOKENS } : {},
    pod: { name: 'p', namespace: 'n', uid: 'u' },
    spcName: 'spc',
    providerName: '',
  } as PublishRequest;
}

function outcome(where: 'none' | 'context' | 'secrets', policy?: { requested: boolean; inSecrets: boolean }) {
  try {
    checkServiceAccountTokens(request(where), policy, 'secrets-store.csi.k8s.io');
    return 'accepted';
  } catch (err) {
    const e = err as PublishError;
    expect(e.message).not.toContain('DO-NOT-LOG');
    return `${grpc.status[e.code]}: ${e.message}`;
  }
}

const none = { requested: false, inSecrets: false };
const inContext = { requested: true, inSecrets: false };
const inSecrets = { requested: true, inSecrets: true };

describe('service-account tokens only from kubelet', () => {
  it.each([
    ['no tokens, no tokenRequests', 'none', none, 'accepted'],
    ['no tokens, CSIDriver not read yet', 'none', undefined, 'accepted'],
    [
      'tokens in the volume context, tokenRequests set (kubelet put them there)',
      'context',
      inContext,
      'accepted',
    ],
    ['tokens in secrets, serviceAccountTokenInSecrets set (KEP-5538)', 'secrets', inSecrets, 'accepted'],
    [
      'tokens in the volume context, no tokenRequests',
      'context',
      none,
      'INVALID_ARGUMENT: csi.storage.k8s.io/serviceAccount.tokens in the volume attributes did not come from kubelet: CSIDriver secrets-store.csi.k8s.io has no tokenRequests',
    ],
    [
      'tokens in secrets, no tokenRequests',
      'secrets',
      none,
      'INVALID_ARGUMENT: csi.storage.k8s.io/serviceAccount.tokens in the secrets did not come from kubelet: CSIDriver secrets-store.csi.k8s.io has no tokenRequests',
    ],
    [
      'tokens in the volume context, kubelet sends them in secrets',
      'context',
      inSecrets,
      'INVALID_ARGUMENT: csi.storage.k8s.io/serviceAccount.tokens in the volume attributes did not come from kubelet: CSIDriver secrets-store.csi.k8s.io sets serviceAccountTokenInSecrets',
    ],
    [
      'tokens in secrets, kubelet sends them in the volume context',
      'secrets',
      inContext,
      'INVALID_ARGUMENT: csi.storage.k8s.io/serviceAccount.tokens in the secrets did not come from kubelet: CSIDriver secrets-store.csi.k8s.io does not set serviceAccountTokenInSecrets',
    ],
    [
      'tokens while the CSIDriver is not read yet',
      'context',
      undefined,
      'UNAVAILABLE: the request carries csi.storage.k8s.io/serviceAccount.tokens, and the driver has not read CSIDriver secrets-store.csi.k8s.io yet',
    ],
  ] as const)('%s', (_what, where, policy, expected) => {
    const got = outcome(where, policy);
    if (expected === 'accepted') expect(got).toBe('accepted');
    else expect(got.startsWith(expected)).toBe(true);
  });
});
