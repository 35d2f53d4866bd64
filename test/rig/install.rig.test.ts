// The self-hosted install (lib/core/install) is accepted by a real apiserver (server-side dry-run, then for
// real), and its ValidatingAdmissionPolicy rejects Azure SecretProviderClasses the provider would fail on at
// mount time, with the policy's own message.
import { randomBytes } from 'node:crypto';
import {
  AZURE_SPC_ADMISSION_POLICY_NAME,
  isClusterScopedKind,
  renderSelfHostedInstall,
  SECRETS_STORE_API_GROUP,
} from '../../lib/core/install';
import type { KubeObject } from '../../lib/core/kube-object';
import { identityBindingRbac } from '../../lib/core/identity-binding';
import { applyAll, describeObject } from '../../harness/rig/apply-objects';
import { useTestNamespace } from './test-namespace';
import { KubeApi, KubeApiError } from '../../harness/rig/kube-api';
import { waitUntilPolicyEnforced } from './policy-enforced';
import { withAdmissionConfinedTo } from './confined-admission';

jest.setTimeout(120000);

const api = KubeApi.forRig();
const namespace = useTestNamespace(api);
const rendered = renderSelfHostedInstall();
// Applied for real with the policy bound to this file's namespace only (see confined-admission.ts).
const install = withAdmissionConfinedTo(rendered, namespace, [namespace]);

function secretProviderClass(name: string, parameters: Record<string, string>): KubeObject {
  return {
    apiVersion: `${SECRETS_STORE_API_GROUP}/v1`,
    kind: 'SecretProviderClass',
    metadata: { name, namespace },
    spec: { provider: 'azure', parameters },
  };
}

const VALID_PARAMETERS = {
  keyvaultName: 'rig-vault',
  tenantId: '00000000-0000-0000-0000-000000000001',
  clientID: '00000000-0000-0000-0000-000000000002',
  objects: 'array:\n  - |\n    objectName: db-password\n    objectType: secret\n',
};

/** The apiserver's rejection of an SPC, or undefined when it was accepted. */
async function rejection(spc: KubeObject): Promise<KubeApiError | undefined> {
  try {
    await api.apply(spc);
    return undefined;
  } catch (error) {
    if (error instanceof KubeApiError) return error;
    throw error;
  }
}

test('every object of the install passes server-side dry-run, then applies for real', async () => {
  expect(install.length).toBeGreaterThan(5);
  await applyAll(api, rendered, { dryRun: true });
  await applyAll(api, install);
  for (const object of install) {
    const stored = await api.find<{ metadata: { uid?: string } }>(await api.objectPath(object));
    expect({ object: describeObject(object), stored: !!stored?.metadata.uid }).toEqual({
      object: describeObject(object),
      stored: true,
    });
  }
  expect(install.filter((o) => isClusterScopedKind(o.kind)).map((o) => o.kind)).toEqual(
    expect.arrayContaining(['CSIDriver', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
  );
});

test('an install for Windows nodes and identity binding passes server-side dry-run, with the RBAC identity binding needs', async () => {
  const windows = renderSelfHostedInstall({
    windowsNodes: true,
    identityBinding: true,
    namespace,
    createNamespace: false,
  });
  expect(windows.map(describeObject)).toEqual(
    expect.arrayContaining([
      `DaemonSet ${namespace}/csi-secrets-store-windows`,
      `DaemonSet ${namespace}/csi-secrets-store-provider-azure-windows`,
    ]),
  );
  const rbac = identityBindingRbac({
    clientId: '0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f',
    namespace,
    serviceAccountName: 'orders',
  });
  await applyAll(api, [...windows, ...rbac], { dryRun: true });
});

describe('the Azure SecretProviderClass admission policy', () => {
  beforeAll(async () => {
    await applyAll(api, install);
    await waitUntilPolicyEnforced(
      api,
      AZURE_SPC_ADMISSION_POLICY_NAME,
      secretProviderClass('probe-invalid', { ...VALID_PARAMETERS, keyvaultName: '' }),
    );
  });

  test('accepts a valid Azure SecretProviderClass', async () => {
    expect(await rejection(secretProviderClass('valid', VALID_PARAMETERS))).toBeUndefined();
    const stored = await api.get<{ spec: { parameters: Record<string, string> } }>(
      `/apis/${SECRETS_STORE_API_GROUP}/v1/namespaces/${namespace}/secretproviderclasses/valid`,
    );
    expect(stored.spec.parameters.keyvaultName).toBe('rig-vault');
  });

  const without = (key: keyof typeof VALID_PARAMETERS): Record<string, string> =>
    Object.fromEntries(Object.entries(VALID_PARAMETERS).filter(([name]) => name !== key));
  const withParameters = (extra: Record<string, string>): Record<string, string> => ({
    ...VALID_PARAMETERS,
    ...extra,
  });

  test.each([
    ['without tenantId', without('tenantId'), 'spec.parameters.tenantId is missing or empty'],
    [
      'with a blank keyvaultName',
      withParameters({ keyvaultName: ' ' }),
      'spec.parameters.keyvaultName is missing',
    ],
    ['without objects', without('objects'), 'spec.parameters.objects is missing or empty'],
    [
      'with two identity modes',
      withParameters({ useVMManagedIdentity: 'true', usePodIdentity: 'True' }),
      'more than one identity mode is true',
    ],
    [
      'with an identity flag Go cannot parse',
      withParameters({ useVMManagedIdentity: 'yes' }),
      'spec.parameters.useVMManagedIdentity is not a boolean',
    ],
    [
      'with a serveLastKnownContentOnOutage Go cannot parse',
      withParameters({ serveLastKnownContentOnOutage: 'yes' }),
      'spec.parameters.serveLastKnownContentOnOutage is not a boolean',
    ],
    [
      'with identity binding but no clientID',
      { ...without('clientID'), useAzureTokenProxy: 'true' },
      'clientID is required for identity binding',
    ],
  ])('rejects one %s, naming the field and the fix', async (_case, parameters, message) => {
    const error = await rejection(
      secretProviderClass(`invalid-${randomBytes(3).toString('hex')}`, parameters),
    );
    expect(error?.status).toBe(422);
    expect(error?.statusMessage).toContain(AZURE_SPC_ADMISSION_POLICY_NAME);
    expect(error?.statusMessage).toContain(message);
  });

  test('accepts a SecretProviderClass that opts in to last known content', async () => {
    expect(
      await rejection(
        secretProviderClass('last-known', withParameters({ serveLastKnownContentOnOutage: 'True' })),
      ),
    ).toBeUndefined();
  });

  test('accepts an identity-binding SecretProviderClass with its clientID', async () => {
    expect(
      await rejection(
        secretProviderClass('identity-binding', withParameters({ useAzureTokenProxy: 'true' })),
      ),
    ).toBeUndefined();
  });

  test('leaves SecretProviderClasses of other providers alone', async () => {
    const other: KubeObject = {
      apiVersion: `${SECRETS_STORE_API_GROUP}/v1`,
      kind: 'SecretProviderClass',
      metadata: { name: 'vault-provider', namespace },
      spec: { provider: 'vault', parameters: { roleName: 'app' } },
    };
    expect(await rejection(other)).toBeUndefined();
  });
});
