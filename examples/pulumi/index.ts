// `pulumi up` at the repository root runs this program (Pulumi.yaml `main: examples/pulumi/`).
//
// An AKS cluster with the OIDC issuer, workload identity and the Key Vault secrets provider add-on
// (rotation every 5 minutes), a Key Vault in RBAC mode with one seeded secret, the "orders" team's
// SecretStore (workload identity, roles, SecretProviderClass, ServiceAccount), and a Deployment that
// reads the mounted file and an env var from the synced Kubernetes Secret.
//
// Config (pulumi config set ...):
//   dbPassword (secret, required)   value seeded into the vault as "orders-db-password"
//   location                        Azure region (default westeurope)
//   installMode                     addon (default) | switching | self-hosted; see docs/migration.md
//   checkInstallModeTransition      false to skip reading the last installMode from the stack itself
import * as pulumi from '@pulumi/pulumi';
import * as containerservice from '@pulumi/azure-native/containerservice';
import * as resources from '@pulumi/azure-native/resources';
import { Deployment } from '@pulumi/kubernetes/apps/v1';
import { Namespace } from '@pulumi/kubernetes/core/v1';
import { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import { KeyVaultObjectType, SecretType } from 'aks-secrets-store';
import {
  checkInstallModeTransition,
  installModePlan,
  KeyVault,
  oidcIssuerUrlOf,
  parseInstallMode,
  RoleAssignmentScope,
  SecretsStoreInstallMode,
  SecretStore,
  SelfHostedInstall,
} from 'aks-secrets-store/pulumi';

const config = new pulumi.Config();
const location = config.get('location') ?? 'westeurope';
export const installMode = parseInstallMode(config.get('installMode') ?? SecretsStoreInstallMode.ADDON);
const plan = installModePlan(installMode, { enableSecretRotation: true, rotationPollInterval: '5m' });

// The mode of the last deployment of this stack (its own `installMode` output): a direct switch between
// the self-hosted driver and the add-on is refused before the cluster is touched. Set
// checkInstallModeTransition=false where the backend cannot read the stack's own outputs.
const addonProfiles =
  config.getBoolean('checkInstallModeTransition') === false
    ? plan.addonProfiles
    : new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`)
        .getOutput('installMode')
        .apply((previous) => {
          checkInstallModeTransition(
            previous === undefined ? undefined : parseInstallMode(String(previous)),
            installMode,
          );
          return plan.addonProfiles;
        });

const group = new resources.ResourceGroup('secrets-store-example', { location });

const cluster = new containerservice.ManagedCluster('aks', {
  resourceGroupName: group.name,
  location,
  dnsPrefix: 'secrets-store-example',
  identity: { type: containerservice.ResourceIdentityType.SystemAssigned },
  agentPoolProfiles: [
    {
      name: 'system',
      mode: containerservice.AgentPoolMode.System,
      count: 2,
      vmSize: 'Standard_D2s_v5',
      osType: 'Linux',
    },
  ],
  oidcIssuerProfile: { enabled: true },
  securityProfile: { workloadIdentity: { enabled: true } },
  addonProfiles,
});

const kubeconfig = containerservice
  .listManagedClusterUserCredentialsOutput({ resourceGroupName: group.name, resourceName: cluster.name })
  .apply((credentials) => Buffer.from(credentials.kubeconfigs[0].value, 'base64').toString('utf8'));
const kubernetesProvider = new KubernetesProvider('aks', { kubeconfig: pulumi.secret(kubeconfig) });

const vault = new KeyVault('orders-kv', {
  resourceGroupName: group.name,
  location,
  softDeleteRetentionInDays: 7,
  secrets: [{ name: 'orders-db-password', value: config.requireSecret('dbPassword') }],
});

// Only in self-hosted mode; in the other modes the add-on (or nothing, while switching) provides the driver.
const install = plan.selfHostedInstall
  ? new SelfHostedInstall('secrets-store', { rotationPollInterval: '5m', kubernetesProvider })
  : undefined;

// The store below uses workload identity, so the add-on's own identity (usable by every pod on every node) is
// granted nothing. A SecretProviderClass that uses it would need AddonIdentityAccess with exactly its objects.

const namespace = new Namespace('orders', { metadata: { name: 'orders' } }, { provider: kubernetesProvider });

const store = new SecretStore(
  'orders',
  {
    namespace: 'orders',
    serviceAccountName: 'orders-app',
    vaultId: vault.vaultId,
    tenantId: vault.tenantId,
    resourceGroupName: group.name,
    location,
    issuerUrl: oidcIssuerUrlOf(cluster),
    // The identity reads its own secret, not the whole vault.
    roleAssignmentScope: RoleAssignmentScope.OBJECT,
    objects: [
      { objectName: 'orders-db-password', objectType: KeyVaultObjectType.SECRET, objectAlias: 'db-password' },
    ],
    secretObjects: [
      {
        secretName: 'orders-db',
        type: SecretType.OPAQUE,
        data: [{ objectName: 'db-password', key: 'password' }],
      },
    ],
    kubernetesProvider,
  },
  { dependsOn: install ? [namespace, install] : [namespace] },
);

const wiring = store.wiring({ env: [{ name: 'DB_PASSWORD', secretName: 'orders-db', key: 'password' }] });
const labels = { app: 'orders' };
new Deployment(
  'orders',
  {
    metadata: { name: 'orders', namespace: 'orders' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...labels, ...wiring.podLabels } },
        spec: {
          serviceAccountName: wiring.serviceAccountName,
          volumes: [wiring.volume],
          containers: [
            {
              name: 'orders',
              image: 'mcr.microsoft.com/azurelinux/busybox:1.36',
              // Shows that the file is mounted and the env var is set, never their values.
              command: [
                'sh',
                '-c',
                'while true; do ls -l /mnt/secrets-store/orders/db-password; [ -n "$DB_PASSWORD" ] && echo "DB_PASSWORD is set"; sleep 60; done',
              ],
              volumeMounts: [wiring.volumeMount],
              env: wiring.env,
              resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '50m', memory: '32Mi' } },
            },
          ],
        },
      },
    },
  },
  // The synced Secret appears once a pod mounts the SPC; the pod needs the SPC and its identity first.
  { provider: kubernetesProvider, dependsOn: [store] },
);

export const vaultName = vault.vaultName;
export const secretProviderClassName = store.secretProviderClassName;
export const serviceAccountName = store.serviceAccountName;
export const workloadIdentityClientId = store.clientId;
