import { Chart, Testing } from 'cdk8s';
import { SecretProviderClass } from '../../lib/cdk8s';
import { CLIENT, Manifest, spcProps } from './fixtures';

describe('SecretProviderClass construct', () => {
  test('renders the core object with the id as name and the chart namespace', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'azure-sync', { ...spcProps, namespace: 'team-a' });
    const [out] = Testing.synth(chart) as Manifest[];
    expect(spc.name).toBe('azure-sync');
    expect(out).toMatchObject({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'azure-sync', namespace: 'team-a' },
      spec: { provider: 'azure', parameters: { keyvaultName: 'kv-team-a', clientID: CLIENT } },
    });
    expect(out.spec.parameters.objects).toBe('array:\n  - |\n    objectName: foo1\n    objectType: secret\n');
  });

  test('takes the namespace of a namespaced chart', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'team-b' });
    const spc = new SecretProviderClass(chart, 'Spc', { ...spcProps, name: 'app-secrets' });
    expect(spc.namespace).toBe('team-b');
    expect((Testing.synth(chart) as Manifest[])[0].metadata).toEqual({
      name: 'app-secrets',
      namespace: 'team-b',
    });
  });

  test('fails on a second SPC with the same name and namespace anywhere in the app', () => {
    const app = Testing.app();
    new SecretProviderClass(new Chart(app, 'one', { namespace: 'team-a' }), 'app-secrets', spcProps);
    const other = new Chart(app, 'two', { namespace: 'team-a' });
    expect(() => new SecretProviderClass(other, 'app-secrets', spcProps)).toThrow(
      'name: SecretProviderClass "app-secrets" in namespace "team-a" is already defined at one/app-secrets',
    );
    expect(
      () =>
        new SecretProviderClass(new Chart(app, 'three', { namespace: 'team-b' }), 'app-secrets', spcProps),
    ).not.toThrow();
  });

  test('fails at construction with the core validation message', () => {
    const chart = Testing.chart();
    expect(() => new SecretProviderClass(chart, 'AppSecrets', spcProps)).toThrow(
      /^name: "AppSecrets" is not a valid Kubernetes name/,
    );
    expect(() => new SecretProviderClass(chart, 's', { ...spcProps, keyVaultName: 'kv' })).toThrow(
      /^keyVaultName: "kv"/,
    );
  });
});
