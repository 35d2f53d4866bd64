// The add-on on a cluster the stack does not own, against a fake ARM that speaks managedClusters' REST shapes
// (GET, PUT as a long-running operation, ETag/If-Match). The provider functions below are what the engine calls.
import { byType, isSecretEnvelope, settled } from './mocks';
import * as pulumi from '@pulumi/pulumi';
import { FakeArm, ManagedClusterBody } from '../../harness/fakes/fake-arm';
import {
  addonSettingsProvider,
  ExistingClusterSecretsProviderAddon,
} from '../../lib/pulumi/existing-cluster-addon';

const TOKEN = 'arm-token-never-logged';
const CLUSTER_ID =
  '/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/rg-platform/providers/Microsoft.ContainerService/managedClusters/shared-aks';

function cluster(addonProfiles: Record<string, unknown>): ManagedClusterBody {
  return {
    id: CLUSTER_ID,
    name: 'shared-aks',
    location: 'westeurope',
    properties: {
      provisioningState: 'Succeeded',
      kubernetesVersion: '1.34.1',
      agentPoolProfiles: [{ name: 'system', count: 3, vmSize: 'Standard_D4s_v5', mode: 'System' }],
      addonProfiles,
    },
  };
}

const rotation5m = {
  enabled: true,
  config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
};

describe('ExistingClusterSecretsProviderAddon against a fake ARM', () => {
  let arm: FakeArm;
  beforeEach(async () => {
    arm = await new FakeArm({ token: TOKEN }).start();
  });
  afterEach(() => arm.stop());
  const inputs = (profile = rotation5m) => ({
    clusterId: CLUSTER_ID,
    profile,
    armEndpoint: arm.endpoint,
    accessToken: TOKEN,
  });

  it('enables the add-on with rotation, changing only its profile, and waits for the operation', async () => {
    arm.addCluster(
      cluster({ omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: 'ws' } } }),
    );
    const before = arm.cluster(CLUSTER_ID)!;
    const created = await addonSettingsProvider.create(inputs());
    const after = arm.cluster(CLUSTER_ID)!;
    expect(after.properties.addonProfiles).toEqual({
      omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: 'ws' } },
      azureKeyvaultSecretsProvider: {
        ...rotation5m,
        identity: expect.objectContaining({ clientId: expect.any(String) }),
      },
    });
    // Everything else as it was; the operation was polled to its end.
    expect({ ...after.properties, addonProfiles: undefined, provisioningState: undefined }).toEqual({
      ...before.properties,
      addonProfiles: undefined,
      provisioningState: undefined,
    });
    expect(after.properties.provisioningState).toBe('Succeeded');
    expect(arm.stats.polls).toBeGreaterThanOrEqual(3);
    expect(created.outs).toMatchObject({
      previousProfile: 'null',
      addonKey: 'azureKeyvaultSecretsProvider',
      clientId: (
        after.properties.addonProfiles!.azureKeyvaultSecretsProvider as { identity: { clientId: string } }
      ).identity.clientId,
    });
  });

  it('updates the profile under the casing the cluster already uses (issue 13, defect 3)', async () => {
    arm.addCluster(cluster({ AzureKeyVaultSecretsProvider: { enabled: false } }));
    const created = await addonSettingsProvider.create(inputs());
    const profiles = arm.cluster(CLUSTER_ID)!.properties.addonProfiles!;
    expect(Object.keys(profiles)).toEqual(['AzureKeyVaultSecretsProvider']);
    expect(profiles.AzureKeyVaultSecretsProvider).toMatchObject(rotation5m);
    expect(JSON.parse(created.outs.previousProfile)).toEqual({ enabled: false });
  });

  it('puts back what it found on delete, or removes what it added', async () => {
    const found = { enabled: true, config: { enableSecretRotation: 'false', rotationPollInterval: '2m' } };
    arm.addCluster(cluster({ azureKeyvaultSecretsProvider: found }));
    const created = await addonSettingsProvider.create(inputs());
    const updated = await addonSettingsProvider.update!(
      created.id,
      created.outs,
      inputs({ enabled: true, config: { enableSecretRotation: 'true', rotationPollInterval: '10m' } }),
    );
    expect(arm.cluster(CLUSTER_ID)!.properties.addonProfiles!.azureKeyvaultSecretsProvider).toMatchObject({
      config: { rotationPollInterval: '10m' },
    });
    await addonSettingsProvider.delete!(created.id, updated.outs);
    expect(arm.cluster(CLUSTER_ID)!.properties.addonProfiles!.azureKeyvaultSecretsProvider).toMatchObject(
      found,
    );

    const other = await new FakeArm({ token: TOKEN }).start();
    try {
      other.addCluster(cluster({}));
      const mine = await addonSettingsProvider.create({ ...inputs(), armEndpoint: other.endpoint });
      await addonSettingsProvider.delete!(mine.id, mine.outs);
      expect(other.cluster(CLUSTER_ID)!.properties.addonProfiles).toEqual({});
    } finally {
      await other.stop();
    }
  });

  it('never overwrites a change made between its read and its write (If-Match, then reads again)', async () => {
    arm.addCluster(cluster({}));
    arm.beforeNextPut = () =>
      arm.modifyCluster(CLUSTER_ID, (body) => {
        body.properties.addonProfiles = { ...body.properties.addonProfiles, azurepolicy: { enabled: true } };
      });
    await addonSettingsProvider.create(inputs());
    const profiles = arm.cluster(CLUSTER_ID)!.properties.addonProfiles!;
    expect(Object.keys(profiles).sort()).toEqual(['azureKeyvaultSecretsProvider', 'azurepolicy']);
    expect(arm.stats.puts).toBe(2);
  });

  it("fails with ARM's code and message when the operation fails, and never shows the token", async () => {
    arm.addCluster(cluster({}));
    arm.failNextOperation = 'Addon azureKeyvaultSecretsProvider failed to reconcile';
    const failure = await addonSettingsProvider.create(inputs()).catch((e: Error) => e.message);
    expect(failure).toMatch(
      /the operation failed: ReconcileAddonsError Addon azureKeyvaultSecretsProvider failed to reconcile/,
    );
    const denied = await addonSettingsProvider
      .create({ ...inputs(), accessToken: 'wrong-token' })
      .catch((e: Error) => e.message);
    expect(denied).toMatch(
      /^GET \/subscriptions\/.*\/managedClusters\/shared-aks: HTTP 401 AuthenticationFailed/,
    );
    expect(`${failure}${denied}`).not.toContain(TOKEN);
    expect(denied).not.toContain('wrong-token');
    const missing = await addonSettingsProvider
      .create({ ...inputs(), clusterId: CLUSTER_ID.replace('shared-aks', 'gone') })
      .catch((e: Error) => e.message);
    expect(missing).toMatch(/HTTP 404 ResourceNotFound/);
  });

  it('replaces (delete first) only when the cluster changes', async () => {
    const diff = await addonSettingsProvider.diff!('id', inputs(), {
      ...inputs(),
      clusterId: CLUSTER_ID.replace('shared', 'other'),
    });
    expect(diff).toEqual({ changes: true, replaces: ['clusterId'], deleteBeforeReplace: true });
    expect((await addonSettingsProvider.diff!('id', inputs(), inputs())).changes).toBe(false);
  });
});

describe('ExistingClusterSecretsProviderAddon as a component', () => {
  it('registers the settings with the rendered profile and the token as a secret', async () => {
    const addon = new ExistingClusterSecretsProviderAddon('shared-aks-addon', {
      clusterId: CLUSTER_ID,
      enableSecretRotation: true,
      rotationPollInterval: '5m',
      accessToken: 'token-from-config',
    });
    await settled(addon);
    const [settings] = byType('pulumi-nodejs:dynamic:Resource').filter(
      (r) => r.name === 'shared-aks-addon-settings',
    );
    expect(settings.inputs).toMatchObject({ clusterId: CLUSTER_ID, profile: rotation5m });
    expect(isSecretEnvelope(settings.inputs.accessToken)).toBe(true);
  });

  it('fails at construction for a bad cluster id or interval, naming the field', () => {
    expect(
      () => new ExistingClusterSecretsProviderAddon('bad-id', { clusterId: 'shared-aks', accessToken: 't' }),
    ).toThrow(/^clusterId: "shared-aks" is not an AKS cluster resource id/);
    expect(
      () =>
        new ExistingClusterSecretsProviderAddon('bad-interval', {
          clusterId: CLUSTER_ID,
          rotationPollInterval: '5m',
          accessToken: pulumi.secret('t'),
        }),
    ).toThrow(/^rotationPollInterval: "5m" is set but enableSecretRotation is false/);
  });
});
