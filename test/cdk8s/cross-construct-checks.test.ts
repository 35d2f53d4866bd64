import { App, Chart, Testing } from 'cdk8s';
import {
  AksAddOnDriver,
  envFromSyncedSecret,
  mountSecretsStore,
  SecretProviderClass,
  SecretsStoreVolume,
  SelfHostedInstall,
} from '../../lib/cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import { CLIENT, errorOf, spcProps } from './fixtures';

// What only the whole app shows: checked at synth (node.addValidation), when every construct exists,
// whatever order they were created in. Each message names the construct path, the field and the fix.

const nodeIdentity = {
  ...spcProps,
  workloadIdentityClientId: undefined,
  userAssignedIdentityClientId: CLIENT,
};

function appWith(installProps: ConstructorParameters<typeof SelfHostedInstall>[2]): {
  app: App;
  team: Chart;
} {
  const app = Testing.app();
  new SelfHostedInstall(new Chart(app, 'platform'), 'install', installProps);
  return { app, team: new Chart(app, 'team-a', { namespace: 'team-a' }) };
}

describe('install capabilities against the SecretProviderClasses of the app', () => {
  test('fails when an SPC syncs Secrets but the install has syncSecrets: false', () => {
    const { app, team } = appWith({ syncSecrets: false });
    new SecretProviderClass(team, 'azure-sync', nodeIdentity);
    expect(errorOf(() => app.synthYaml())).toBe(
      'Validation failed with the following errors:\n  [team-a/azure-sync] secretObjects: syncs "foosecret", but the install platform/install has syncSecrets: false, so the driver may not create Secrets and every mount would fail to sync; set syncSecrets: true on the install or remove secretObjects',
    );
  });

  test('fails when an SPC uses workload identity but the install requests no token for it', () => {
    const { app, team } = appWith({ workloadIdentity: false });
    new SecretProviderClass(team, 'wi', spcProps);
    expect(() => app.synthYaml()).toThrow(
      '[team-a/wi] workloadIdentityClientId: workload identity needs a service-account token for api://AzureADTokenExchange, but the install platform/install has workloadIdentity: false',
    );
  });

  test('checks an install created after the SPCs too, and passes when the install serves them', () => {
    const app = Testing.app();
    new SecretProviderClass(new Chart(app, 'team-a', { namespace: 'team-a' }), 'wi', spcProps);
    new SelfHostedInstall(new Chart(app, 'platform'), 'install', { workloadIdentity: false });
    expect(() => app.synthYaml()).toThrow('[team-a/wi] workloadIdentityClientId:');

    const served = appWith({});
    new SecretProviderClass(served.team, 'wi', spcProps);
    expect(() => served.app.synthYaml()).not.toThrow();
  });

  test('the AKS add-on is not checked (its capabilities are not known here)', () => {
    const app = Testing.app();
    new AksAddOnDriver(new Chart(app, 'addon'), 'driver');
    new SecretProviderClass(new Chart(app, 'team-a', { namespace: 'team-a' }), 'wi', spcProps);
    expect(() => app.synthYaml()).not.toThrow();
  });
});

describe('a pod may only use a SecretProviderClass of its own namespace', () => {
  test('fails when a pod in team-b mounts an SPC of team-a through the standalone helpers', () => {
    const app = Testing.app();
    const spc = new SecretProviderClass(
      new Chart(app, 'secrets', { namespace: 'team-a' }),
      'azure-sync',
      spcProps,
    );
    const pod = new kplus.Pod(new Chart(app, 'web', { namespace: 'team-b' }), 'web', {
      containers: [{ name: 'app', image: 'nginx' }],
    });
    mountSecretsStore(pod.containers[0], SecretsStoreVolume.fromSecretProviderClass(spc, { name: 'store' }));
    pod.containers[0].env.addVariable('USER', envFromSyncedSecret(spc, 'foosecret', 'username'));
    const message = errorOf(() => app.synthYaml());
    expect(message).toContain(
      '[secrets/azure-sync] namespace: SecretProviderClass "azure-sync" is in "team-a", but web/web (namespace "team-b") mounts it as volume "store" in container "app"; a pod can only mount an SPC of its own namespace, so put both in one namespace',
    );
    expect(message).toContain(
      '[secrets/azure-sync] secretObjects: web/web (namespace "team-b") reads env USER of container "app" from a Secret this SecretProviderClass syncs into "team-a"',
    );
  });

  test('a pod in the same namespace, or one that does not use the SPC, is fine', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'team-a', { namespace: 'team-a' });
    const spc = new SecretProviderClass(chart, 'azure-sync', spcProps);
    const pod = new kplus.Pod(chart, 'web', { containers: [{ image: 'nginx' }] });
    mountSecretsStore(pod.containers[0], SecretsStoreVolume.fromSecretProviderClass(spc));
    new kplus.Pod(new Chart(app, 'other', { namespace: 'team-b' }), 'p', {
      containers: [{ image: 'nginx' }],
    });
    expect(() => app.synthYaml()).not.toThrow();
  });

  test('an imported SPC is checked the same way', () => {
    const app = Testing.app();
    const spc = SecretProviderClass.fromName(new Chart(app, 'refs'), 'shared', 'shared-secrets', {
      namespace: 'team-a',
    });
    const pod = new kplus.Pod(new Chart(app, 'web', { namespace: 'team-b' }), 'web', {
      containers: [{ name: 'app', image: 'nginx' }],
    });
    mountSecretsStore(pod.containers[0], SecretsStoreVolume.fromSecretProviderClass(spc));
    expect(() => app.synthYaml()).toThrow(
      '[refs/shared] namespace: SecretProviderClass "shared-secrets" is in "team-a", but web/web (namespace "team-b") mounts it',
    );
  });
});
