import { Chart, Testing } from 'cdk8s';
import {
  envFromSyncedSecret,
  mountSecretsStore,
  SecretProviderClass,
  SecretsStoreVolume,
} from '../../lib/cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import { CLIENT, errorOf, Manifest, spcProps } from './fixtures';

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

  test('fails at synth on a second SPC with the same name and namespace anywhere in the app', () => {
    const app = Testing.app();
    new SecretProviderClass(new Chart(app, 'one', { namespace: 'team-a' }), 'app-secrets', spcProps);
    const other = new Chart(app, 'two', { namespace: 'team-a' });
    new SecretProviderClass(other, 'app-secrets', spcProps);
    new SecretProviderClass(new Chart(app, 'three', { namespace: 'team-b' }), 'app-secrets', spcProps);
    // Reported once, on the later one; the SPC in team-b is fine.
    expect(() => app.synthYaml()).toThrow(
      'Validation failed with the following errors:\n  [two/app-secrets] name: SecretProviderClass "app-secrets" in namespace "team-a" is already defined at one/app-secrets; one would overwrite the other when applied, so give this one another name',
    );
    expect(errorOf(() => app.synthYaml()).match(/already defined/g)).toHaveLength(1);
  });

  test('finds the twin even when it is created after the SPC that sees it (the tree is complete at synth)', () => {
    const app = Testing.app();
    const first = new Chart(app, 'a', { namespace: 'team-a' });
    new SecretProviderClass(first, 'x', spcProps);
    expect(() => app.synthYaml()).not.toThrow();
    new SecretProviderClass(new Chart(app, 'b', { namespace: 'team-a' }), 'x', spcProps);
    expect(() => app.synthYaml()).toThrow('[b/x] name: SecretProviderClass "x" in namespace "team-a"');
  });

  test('fails at construction with the core validation message', () => {
    const chart = Testing.chart();
    expect(() => new SecretProviderClass(chart, 'AppSecrets', spcProps)).toThrow(
      /^\[test\/AppSecrets\] name: "AppSecrets" is not a valid Kubernetes name/,
    );
    expect(() => new SecretProviderClass(chart, 's', { ...spcProps, keyVaultName: 'kv' })).toThrow(
      /^\[test\/s\] keyVaultName: "kv"/,
    );
  });
});

describe('SecretProviderClass synth-time gaps (issue 12)', () => {
  test('fails on a TLS Secret synced from a cert object, naming the construct path, field and fix', () => {
    const chart = new Chart(Testing.app(), 'team-a', { namespace: 'team-a' });
    expect(
      errorOf(
        () =>
          new SecretProviderClass(chart, 'ingress', {
            ...spcProps,
            objects: [{ objectName: 'ingress', objectType: 'cert' }],
            secretObjects: [
              {
                secretName: 'ingress-tls',
                type: 'kubernetes.io/tls',
                data: [
                  { objectName: 'ingress', key: 'tls.crt' },
                  { objectName: 'ingress', key: 'tls.key' },
                ],
              },
            ],
          }),
      ),
    ).toMatch(
      /^\[team-a\/ingress\] secretObjects\[0\]\.data\[0\]\.objectName: "ingress" is a cert object, which mounts only public material \(no private key\).*objectType "secret"/,
    );
  });

  test('reports several independent problems of one SPC together', () => {
    const chart = Testing.chart();
    expect(
      errorOf(() => new SecretProviderClass(chart, 'Bad_Name', { ...spcProps, keyVaultName: 'https://kv' })),
    ).toMatch(
      /^\[test\/Bad_Name\] 2 problems; fix them together:\n {2}name: .*\n {2}keyVaultName: "https:\/\/kv"/,
    );
  });
});

describe('SecretProviderClass.fromName', () => {
  test('mounts an SPC made elsewhere, with its service principal secret, in the chart namespace', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'team-a' });
    const spc = SecretProviderClass.fromName(chart, 'Shared', 'shared-secrets', {
      servicePrincipalSecretName: 'sp-creds',
    });
    expect(spc.namespace).toBe('team-a');
    const pod = new kplus.Pod(chart, 'p');
    mountSecretsStore(pod.addContainer({ image: 'nginx' }), SecretsStoreVolume.fromSecretProviderClass(spc));
    const out = Testing.synth(chart) as Manifest[];
    expect(out.map((m) => m.kind)).toEqual(['Pod']); // an import renders nothing
    expect(out[0].spec.volumes).toEqual([
      {
        name: 'secrets-store-shared-secrets',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'shared-secrets' },
          nodePublishSecretRef: { name: 'sp-creds' },
        },
      },
    ]);
  });

  test('checks env vars against the secretObjects it is given, and cannot check without them', () => {
    const chart = Testing.chart();
    const known = SecretProviderClass.fromName(chart, 'known', 'shared', {
      secretObjects: spcProps.secretObjects,
    });
    expect(() => envFromSyncedSecret(known, 'foosecret', 'password')).toThrow(
      '[test/known] key: "password" is not a key of synced Secret "foosecret" (keys: "username")',
    );
    const unknown = SecretProviderClass.fromName(chart, 'unknown', 'shared');
    expect(() => envFromSyncedSecret(unknown, 'anything', 'k')).not.toThrow();
  });

  test('fails on a name or namespace Kubernetes would refuse, naming the construct', () => {
    const chart = Testing.chart();
    expect(() => SecretProviderClass.fromName(chart, 'a', 'Shared_Secrets')).toThrow(
      /^\[test\/a\] name: "Shared_Secrets" is not a valid Kubernetes name/,
    );
    expect(() => SecretProviderClass.fromName(chart, 'b', 'ok', { namespace: 'Team' })).toThrow(
      /^\[test\/b\] namespace: "Team" is not a valid Kubernetes namespace/,
    );
  });
});
