// Embedded defaults so `npm run synth` works on a fresh machine with no cloud account. Every value is
// a placeholder: set the environment variable to render manifests for a real vault and identity.
export interface ExampleSettings {
  /** Entra tenant of the vault. */
  readonly tenantId: string;
  /** Key Vault name. */
  readonly keyVaultName: string;
  /** Client id of the user-assigned identity federated with the team's ServiceAccount. */
  readonly workloadIdentityClientId: string;
  /**
   * Client id of a user-assigned identity on the nodes: in add-on mode the add-on's own identity
   * (`addonProfiles.azureKeyvaultSecretsProvider.identity.clientId`), self-hosted one assigned to the
   * node pool. The seed's examples read the vault with it.
   */
  readonly nodeIdentityClientId: string;
  /** Rotation poll interval of the self-hosted install (the seed's custom interval). */
  readonly rotationPollInterval: string;
}

const PLACEHOLDER_TENANT = '00000000-0000-0000-0000-000000000000';
const PLACEHOLDER_WORKLOAD_CLIENT = '11111111-1111-1111-1111-111111111111';
const PLACEHOLDER_NODE_CLIENT = '22222222-2222-2222-2222-222222222222';

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ExampleSettings {
  return {
    tenantId: env.AKS_SS_TENANT_ID ?? PLACEHOLDER_TENANT,
    keyVaultName: env.AKS_SS_KEYVAULT_NAME ?? 'example-kv',
    workloadIdentityClientId: env.AKS_SS_CLIENT_ID ?? PLACEHOLDER_WORKLOAD_CLIENT,
    nodeIdentityClientId: env.AKS_SS_NODE_IDENTITY_CLIENT_ID ?? PLACEHOLDER_NODE_CLIENT,
    rotationPollInterval: env.AKS_SS_ROTATION_POLL_INTERVAL ?? '5m',
  };
}
