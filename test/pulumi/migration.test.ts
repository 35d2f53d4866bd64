// The migration path of docs/migration.md, deployment by deployment: one program, `installMode` flipped
// from self-hosted to switching to addon. For each deployment the engine's steps are derived from the
// previous deployment's resources and the program's registrations (create / update / delete, where a
// delete of a retainOnDelete resource only forgets it and leaves the object in the cluster).
import { recorded, RecordedResource, registered, settled } from './mocks';
import * as pulumi from '@pulumi/pulumi';
import * as containerservice from '@pulumi/azure-native/containerservice';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { installModePlan, parseInstallMode, SecretsStoreInstallMode } from '../../lib/pulumi/install-mode';
import { SecretStore } from '../../lib/pulumi/secret-store';
import { SelfHostedInstall } from '../../lib/pulumi/self-hosted-install';

const { SELF_HOSTED, SWITCHING, ADDON } = SecretsStoreInstallMode;

interface Deployed {
  readonly key: string; // type::name without the deployment prefix
  readonly resource: RecordedResource;
}

/** The program, registered under `prefix` so several deployments can be recorded in one process. */
async function deploy(
  prefix: string,
  mode: SecretsStoreInstallMode,
  previous?: SecretsStoreInstallMode,
): Promise<Deployed[]> {
  const before = recorded.length;
  const plan = installModePlan(mode, { enableSecretRotation: true, rotationPollInterval: '5m' }, previous);
  const cluster = new containerservice.ManagedCluster(`${prefix}~aks`, {
    resourceGroupName: 'rg',
    dnsPrefix: 'aks',
    agentPoolProfiles: [{ name: 'system', count: 1, vmSize: 'Standard_D2s_v5', mode: 'System' }],
    oidcIssuerProfile: { enabled: true },
    addonProfiles: plan.addonProfiles,
  });
  const install = plan.selfHostedInstall
    ? new SelfHostedInstall(`${prefix}~secrets-store`, { rotationPollInterval: '5m' })
    : undefined;
  const store = new SecretStore(
    `${prefix}~orders`,
    {
      namespace: 'orders',
      secretProviderClassName: 'orders',
      serviceAccountName: 'orders-app',
      vaultId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-orders',
      tenantId: '72f988bf-0000-4000-8000-000000000001',
      resourceGroupName: 'rg',
      issuerUrl: 'https://oidc.example/aks/',
      objects: [{ objectName: 'db-password', objectType: KeyVaultObjectType.SECRET }],
    },
    { dependsOn: install ? [install] : [] },
  );
  const children: pulumi.Resource[] = [
    cluster,
    store.serviceAccount!,
    ...(install ? install.resources() : []),
  ];
  await registered(...children);
  await settled(store);
  return recorded
    .slice(before)
    .map((resource) => ({ key: `${resource.type}::${resource.name.replace(`${prefix}~`, '')}`, resource }));
}

interface Steps {
  creates: string[];
  updates: string[];
  deletes: string[];
  forgets: string[];
}

/** What `pulumi up` would do going from `previous` to `next`: deletes (and forgets) run after every create/update. */
function steps(previous: Deployed[], next: Deployed[]): Steps {
  const before = new Map(previous.map((d) => [d.key, d.resource]));
  const after = new Map(next.map((d) => [d.key, d.resource]));
  const gone = [...before.keys()].filter((k) => !after.has(k));
  return {
    creates: [...after.keys()].filter((k) => !before.has(k)),
    updates: [...after.keys()].filter(
      (k) => before.has(k) && JSON.stringify(before.get(k)!.inputs) !== JSON.stringify(after.get(k)!.inputs),
    ),
    deletes: gone.filter((k) => !before.get(k)!.retainOnDelete),
    forgets: gone.filter((k) => before.get(k)!.retainOnDelete),
  };
}

const CLUSTER = 'azure-native:containerservice:ManagedCluster::aks';
const SPC = 'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass::orders';
const CSI_DRIVER = 'kubernetes:storage.k8s.io/v1:CSIDriver::secrets-store-csidriver-secrets-store.csi.k8s.io';
const DRIVER_DS = 'kubernetes:apps/v1:DaemonSet::secrets-store-daemonset-csi-secrets-store';
const PROVIDER_DS = 'kubernetes:apps/v1:DaemonSet::secrets-store-daemonset-csi-secrets-store-provider-azure';
const CRDS = [
  'kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::secrets-store-crd-secretproviderclasses.secrets-store.csi.x-k8s.io',
  'kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::secrets-store-crd-secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
];

describe('migration from the self-hosted install to the add-on', () => {
  let selfHosted: Deployed[];
  let switching: Deployed[];
  let addon: Deployed[];
  beforeAll(async () => {
    selfHosted = await deploy('deploy1', SELF_HOSTED);
    switching = await deploy('deploy2', SWITCHING, SELF_HOSTED);
    addon = await deploy('deploy3', ADDON, SWITCHING);
  });
  const inputsOf = (deployed: Deployed[], key: string) =>
    deployed.find((d) => d.key === key)?.resource.inputs;

  it('starts with the self-hosted driver and the add-on off', () => {
    const keys = selfHosted.map((d) => d.key);
    expect(keys).toEqual(expect.arrayContaining([CSI_DRIVER, DRIVER_DS, PROVIDER_DS, ...CRDS, SPC]));
    expect(inputsOf(selfHosted, CLUSTER)!.addonProfiles).toEqual({
      azureKeyvaultSecretsProvider: { enabled: false },
    });
  });

  it('deployment 1 (switching) removes the DaemonSets and the CSIDriver, keeps the CRDs, leaves the add-on off', () => {
    const s = steps(selfHosted, switching);
    expect(s.deletes).toEqual(expect.arrayContaining([CSI_DRIVER, DRIVER_DS, PROVIDER_DS]));
    expect(s.forgets.sort()).toEqual([...CRDS].sort());
    expect(s.updates).not.toContain(CLUSTER);
    expect(s.creates).toEqual([]);
    expect(s.updates).not.toContain(SPC);
  });

  it('deployment 2 (addon) only enables the add-on; nothing of the self-hosted install is left to delete', () => {
    const s = steps(switching, addon);
    expect(s.updates).toEqual([CLUSTER]);
    expect(s.deletes).toEqual([]);
    expect(s.forgets).toEqual([]);
    expect(inputsOf(addon, CLUSTER)!.addonProfiles).toEqual({
      azureKeyvaultSecretsProvider: {
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
      },
    });
  });

  it('never replaces or deletes the SecretProviderClass on the way', () => {
    expect(inputsOf(switching, SPC)).toEqual(inputsOf(selfHosted, SPC));
    expect(inputsOf(addon, SPC)).toEqual(inputsOf(selfHosted, SPC));
  });

  it('would enable the add-on before deleting the old driver in a direct flip, so the direct flip is refused', () => {
    // What a single deployment would do: the cluster update is a step of the program, the deletes come last.
    const direct = steps(selfHosted, addon);
    expect(direct.updates).toContain(CLUSTER);
    expect(direct.deletes).toEqual(expect.arrayContaining([CSI_DRIVER, DRIVER_DS, PROVIDER_DS]));
    expect(() => installModePlan(ADDON, {}, SELF_HOSTED)).toThrow(
      /^installMode: cannot go from "self-hosted" to "addon" in one deployment: .* Deploy with installMode "switching" first, then "addon"/,
    );
    expect(() => installModePlan(SELF_HOSTED, {}, ADDON)).toThrow(
      /^installMode: cannot go from "addon" to "self-hosted"/,
    );
  });

  it('allows the way back through switching, and fresh stacks in any mode', () => {
    expect(installModePlan(SWITCHING, {}, ADDON).selfHostedInstall).toBe(false);
    expect(installModePlan(SELF_HOSTED, {}, SWITCHING).selfHostedInstall).toBe(true);
    expect(installModePlan(ADDON).addonProfiles.azureKeyvaultSecretsProvider.enabled).toBe(true);
  });

  it('fails for an unknown mode, naming the field and the choices', () => {
    expect(() => parseInstallMode('add-on')).toThrow(
      /^installMode: "add-on" is not an install mode; use one of "self-hosted", "switching", "addon"/,
    );
  });
});
