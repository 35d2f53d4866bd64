import { AddonIdentityAccess } from '../addon-identity-access';
import { ExistingClusterSecretsProviderAddon } from '../existing-cluster-addon';
import { KeyVault } from '../key-vault';
import { KeyVaultRoleAssignments } from '../key-vault-role-assignments';
import { SecretStore } from '../secret-store';
import { SelfHostedInstall } from '../self-hosted-install';
import { WorkloadIdentity } from '../workload-identity';

/** The components the package serves, each as `aks-secrets-store:index:<class name>`. */
export const COMPONENTS = [
  AddonIdentityAccess,
  ExistingClusterSecretsProviderAddon,
  KeyVault,
  KeyVaultRoleAssignments,
  SecretStore,
  SelfHostedInstall,
  WorkloadIdentity,
] as const;
