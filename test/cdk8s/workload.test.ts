import { Testing } from 'cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import {
  envFromSyncedSecret,
  mountSecretsStore,
  restartOnRotation,
  SecretProviderClass,
  SecretsStoreVolume,
  useWorkloadIdentity,
  WorkloadIdentityServiceAccount,
} from '../../lib/cdk8s';
import { byKind, CLIENT, Manifest, spcProps, TENANT } from './fixtures';

describe('workload helpers', () => {
  test('volume + read-only mount + env from synced Secret, as in the seed', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'azure-sync', spcProps);
    const pod = new kplus.Pod(chart, 'busybox', { metadata: { name: 'busybox-secrets-store-inline' } });
    const container = pod.addContainer({
      name: 'busybox',
      image: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
    });
    mountSecretsStore(
      container,
      SecretsStoreVolume.fromSecretProviderClass(spc, { name: 'secrets-store01-inline' }),
    );
    container.env.addVariable('SECRET_USERNAME', envFromSyncedSecret(spc, 'foosecret', 'username'));
    const podOut = byKind(Testing.synth(chart) as Manifest[], 'Pod')[0];
    expect(podOut.spec.volumes).toEqual([
      {
        name: 'secrets-store01-inline',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'azure-sync' },
        },
      },
    ]);
    expect(podOut.spec.containers[0].volumeMounts).toEqual([
      { name: 'secrets-store01-inline', mountPath: '/mnt/secrets-store', readOnly: true },
    ]);
    expect(podOut.spec.containers[0].env).toEqual([
      { name: 'SECRET_USERNAME', valueFrom: { secretKeyRef: { name: 'foosecret', key: 'username' } } },
    ]);
  });

  test('service principal mode adds nodePublishSecretRef to the volume', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'sp', {
      ...spcProps,
      workloadIdentityClientId: undefined,
      servicePrincipalSecretName: 'secrets-store-creds',
    });
    const pod = new kplus.Pod(chart, 'p');
    mountSecretsStore(pod.addContainer({ image: 'nginx' }), SecretsStoreVolume.fromSecretProviderClass(spc));
    const podOut = byKind(Testing.synth(chart) as Manifest[], 'Pod')[0];
    expect(podOut.spec.volumes[0].csi).toEqual({
      driver: 'secrets-store.csi.k8s.io',
      readOnly: true,
      volumeAttributes: { secretProviderClass: 'sp' },
      nodePublishSecretRef: { name: 'secrets-store-creds' },
    });
  });

  test('volume names are DNS labels: dots in the SPC name are replaced, bad names refused', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'app.secrets', spcProps);
    expect(SecretsStoreVolume.fromSecretProviderClass(spc).name).toBe('secrets-store-app-secrets');
    expect(() => SecretsStoreVolume.fromSecretProviderClass(spc, { name: 'Secrets_Store' })).toThrow(
      'name: "Secrets_Store" is not a valid volume name',
    );
  });

  test("mountSecretsStore refuses a relative path or one with ':', naming path", () => {
    const chart = Testing.chart();
    const volume = SecretsStoreVolume.fromSecretProviderClass(new SecretProviderClass(chart, 'm', spcProps));
    const container = new kplus.Pod(chart, 'p').addContainer({ image: 'nginx' });
    expect(() => mountSecretsStore(container, volume, { path: 'mnt/secrets' })).toThrow(
      'path: "mnt/secrets" is not an absolute path without \':\'; mount the secrets store at e.g. "/mnt/secrets-store"',
    );
    expect(() => mountSecretsStore(container, volume, { path: '/mnt/a:b' })).toThrow(/^path: "\/mnt\/a:b"/);
  });

  test('envFromSyncedSecret fails for an undeclared Secret or key', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'azure-sync', spcProps);
    expect(() => envFromSyncedSecret(spc, 'other', 'username')).toThrow(
      'secretName: "other" is not synced by SecretProviderClass "azure-sync" (its secretObjects: "foosecret")',
    );
    expect(() => envFromSyncedSecret(spc, 'foosecret', 'password')).toThrow(
      'key: "password" is not a key of synced Secret "foosecret" (keys: "username")',
    );
  });

  test('workload identity ServiceAccount and pod label', () => {
    const chart = Testing.chart();
    const sa = new WorkloadIdentityServiceAccount(chart, 'app', { clientId: CLIENT, tenantId: TENANT });
    const deployment = new kplus.Deployment(chart, 'd', { serviceAccount: sa.serviceAccount });
    deployment.addContainer({ image: 'nginx' });
    useWorkloadIdentity(deployment);
    const out = Testing.synth(chart) as Manifest[];
    expect(byKind(out, 'ServiceAccount')[0].metadata.annotations).toEqual({
      'azure.workload.identity/client-id': CLIENT,
      'azure.workload.identity/tenant-id': TENANT,
    });
    const dep = byKind(out, 'Deployment')[0];
    expect(dep.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(dep.spec.template.spec.serviceAccountName).toBe('app');
    expect(() => new WorkloadIdentityServiceAccount(chart, 'x', { clientId: 'my-app' })).toThrow(
      'clientId: "my-app" is not a GUID',
    );
  });

  test('restartOnRotation annotates for Reloader, merging names, and refuses bare Pods', () => {
    const chart = Testing.chart();
    const deployment = new kplus.Deployment(chart, 'd');
    deployment.addContainer({ image: 'nginx' });
    restartOnRotation(deployment, ['a']);
    restartOnRotation(deployment, ['b', 'a']);
    const dep = byKind(Testing.synth(chart) as Manifest[], 'Deployment')[0];
    expect(dep.metadata.annotations).toEqual({ 'secret.reloader.stakater.com/reload': 'a,b' });
    const pod = new kplus.Pod(chart, 'p');
    expect(() => restartOnRotation(pod, ['a'])).toThrow(
      /^\[test\/p\] restartOnRotation: Reloader restarts Deployments/,
    );
  });
});
