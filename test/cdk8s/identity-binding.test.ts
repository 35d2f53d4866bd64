import { Chart, Testing } from 'cdk8s';
import { SecretStore, SelfHostedInstall } from '../../lib/cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import { validateKubeObject } from '../core/install/offline-validation';
import { byKind, errorOf, Manifest, spcProps } from './fixtures';
import { KubeObject } from '../../lib/core';

// AKS identity binding in the cdk8s constructs: the SPC names the user-assigned identity's client id,
// the install's CSIDriver requests the api://AKSIdentityBinding token, and the store's ServiceAccount
// is allowed to use the identity.

const UAMI = '0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f';
const idbProps = { ...spcProps, workloadIdentityClientId: undefined, identityBindingClientId: UAMI };

function build(install: { identityBinding?: boolean } = { identityBinding: true }) {
  const app = Testing.app();
  const platform = new Chart(app, 'platform');
  new SelfHostedInstall(platform, 'install', install);
  const team = new Chart(app, 'orders', { namespace: 'orders' });
  const store = new SecretStore(team, 'orders-secrets', { ...idbProps, serviceAccountName: 'orders' });
  const deployment = new kplus.Deployment(team, 'orders', {
    serviceAccount: store.serviceAccount,
    containers: [{ image: 'nginx' }],
  });
  store.wire(deployment);
  return { app, platform, team, store };
}

describe('identity binding (cdk8s)', () => {
  test('renders the SPC, the token request and the RBAC that lets the ServiceAccount use the identity', () => {
    const { app, platform, team } = build();
    expect(() => app.synthYaml()).not.toThrow();
    const out = Testing.synth(team) as Manifest[];
    expect(byKind(out, 'SecretProviderClass')[0].spec.parameters).toMatchObject({
      useAzureTokenProxy: 'true',
      clientID: UAMI,
      useVMManagedIdentity: 'false',
    });
    const [role] = byKind(out, 'ClusterRole') as unknown as KubeObject[];
    const [binding] = byKind(out, 'ClusterRoleBinding') as unknown as KubeObject[];
    expect(role.metadata).toEqual({ name: `use-managed-identity:orders:orders:${UAMI}` });
    expect(role.rules).toEqual([
      { apiGroups: ['cid.wi.aks.azure.com'], resources: [UAMI], verbs: ['use-managed-identity'] },
    ]);
    expect(binding.metadata.namespace).toBeUndefined();
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'orders', namespace: 'orders' }]);
    for (const object of [role, binding]) expect(() => validateKubeObject(object)).not.toThrow();
    const [driver] = byKind(Testing.synth(platform) as Manifest[], 'CSIDriver');
    expect(driver.spec.tokenRequests).toEqual([
      { audience: 'api://AzureADTokenExchange' },
      { audience: 'api://AKSIdentityBinding' },
    ]);
  });

  test('fails at synth when the install requests no api://AKSIdentityBinding token', () => {
    const { app } = build({});
    expect(() => app.synthYaml()).toThrow(
      '[orders/orders-secrets/SecretProviderClass] identityBindingClientId: identity binding needs a service-account token for api://AKSIdentityBinding, but the install platform/install has identityBinding: false',
    );
  });

  test('fails to wire a workload that does not run as the store ServiceAccount, or a store without a namespace', () => {
    const { team, store } = build();
    const other = new kplus.Deployment(team, 'other', { containers: [{ image: 'nginx' }] });
    expect(() => store.wire(other)).toThrow(
      /^\[orders\/other\] workload.serviceAccount: .* not the store's "orders"/,
    );
    const bare = Testing.chart();
    expect(errorOf(() => new SecretStore(bare, 'x', idbProps))).toBe(
      '[test/x] namespace: is not set, and identity binding authorises the ServiceAccount by namespace (a ClusterRoleBinding subject); give the SecretStore or its chart a namespace',
    );
  });
});
