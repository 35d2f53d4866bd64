import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import * as keyvault from '@pulumi/azure-native/keyvault';
import { validateKeyVaultName, validateKeyVaultObjectName } from '../core/validation/key-vault-names';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';

/** Key Vault pricing tier. */
export enum KeyVaultSku {
  /** Software-protected keys. */
  STANDARD = 'standard',
  /** Adds HSM-protected keys. */
  PREMIUM = 'premium',
}

/** What the vault firewall does with traffic that no network rule matches. */
export enum KeyVaultNetworkDefaultAction {
  ALLOW = 'Allow',
  DENY = 'Deny',
}

/** A secret written into the vault when it is created (for example a bootstrap value). */
export interface KeyVaultSecretSeedArgs {
  /** Secret name in the vault (1–127 characters: letters, digits and '-'); the name a SecretProviderClass object uses. */
  name: string;
  /** Secret value; always stored as a Pulumi secret, so it is encrypted in the state and never printed. */
  value: pulumi.Input<string>;
  /**
   * Content type stored with the secret.
   * @default - none
   */
  contentType?: pulumi.Input<string>;
}

export interface KeyVaultArgs {
  /** Resource group of the vault. */
  resourceGroupName: pulumi.Input<string>;
  /**
   * Azure region.
   * @default - the resource group's location
   */
  location?: pulumi.Input<string>;
  /**
   * Vault name (3–24 characters: letters, digits and '-', starting with a letter, globally unique).
   * @default - Pulumi auto-names it from the component name
   */
  vaultName?: string;
  /**
   * Entra ID tenant that authenticates requests to the vault.
   * @default - the tenant of the credentials Pulumi runs with (authorization.getClientConfig)
   */
  tenantId?: pulumi.Input<string>;
  /**
   * Pricing tier.
   * @default KeyVaultSku.STANDARD
   */
  sku?: KeyVaultSku;
  /**
   * Azure RBAC for data-plane access (role assignments such as Key Vault Secrets User) instead of access policies.
   * The add-on and workload identity components grant roles, so they need RBAC mode.
   * @default true
   */
  enableRbacAuthorization?: boolean;
  /**
   * Days a deleted vault or object stays recoverable (7–90). Can only be set when the vault is created.
   * @default 90
   */
  softDeleteRetentionInDays?: number;
  /**
   * Purge protection: deleted vaults and objects cannot be purged before the retention ends. Irreversible once on.
   * @default false
   */
  enablePurgeProtection?: boolean;
  /**
   * Whether the vault accepts traffic from public networks at all.
   * @default true
   */
  publicNetworkAccess?: boolean;
  /**
   * Firewall action for traffic that matches no IP or virtual-network rule.
   * @default KeyVaultNetworkDefaultAction.ALLOW
   */
  networkDefaultAction?: KeyVaultNetworkDefaultAction;
  /**
   * Public IPv4 addresses or CIDR ranges allowed through the firewall.
   * @default - none
   */
  allowedIpRanges?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Subnet resource ids allowed through the firewall (the subnet needs the Microsoft.KeyVault service endpoint).
   * @default - none
   */
  allowedSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Let trusted Azure services through the firewall.
   * @default true
   */
  bypassAzureServices?: boolean;
  /**
   * Secrets created with the vault.
   * @default - none
   */
  secrets?: KeyVaultSecretSeedArgs[];
  /**
   * Tags for the vault.
   * @default - none
   */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * An Azure Key Vault for the Secrets Store CSI Driver: RBAC mode by default, soft delete with a chosen
 * retention, optional purge protection and firewall rules, and optional seeded secrets.
 */
export class KeyVault extends pulumi.ComponentResource {
  /** The vault. */
  public readonly vault: keyvault.Vault;
  /** Seeded secrets by name. */
  public readonly secrets: Record<string, keyvault.Secret>;
  /** Vault name (the SecretProviderClass `keyvaultName`). */
  public readonly vaultName: pulumi.Output<string>;
  /** Vault resource id (the scope of role assignments). */
  public readonly vaultId: pulumi.Output<string>;
  /** Data-plane URI, e.g. https://<name>.vault.azure.net/. */
  public readonly vaultUri: pulumi.Output<string>;
  /** Tenant of the vault (the SecretProviderClass `tenantId`). */
  public readonly tenantId: pulumi.Output<string>;

  constructor(name: string, args: KeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything, so bad input leaves no half-built component behind.
    validateKeyVaultArgs(args);
    super(componentType('KeyVault'), name, {}, opts);

    const tenantId = args.tenantId ?? authorization.getClientConfigOutput({ parent: this }).tenantId;
    const defaultAction = args.networkDefaultAction ?? KeyVaultNetworkDefaultAction.ALLOW;
    this.vault = new keyvault.Vault(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: args.vaultName,
        tags: args.tags,
        properties: {
          tenantId,
          sku: { family: keyvault.SkuFamily.A, name: args.sku ?? KeyVaultSku.STANDARD },
          enableRbacAuthorization: args.enableRbacAuthorization ?? true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: args.softDeleteRetentionInDays ?? 90,
          // The service rejects `false` here; leaving it out is how "off" is expressed.
          enablePurgeProtection: args.enablePurgeProtection ? true : undefined,
          publicNetworkAccess: args.publicNetworkAccess === false ? 'disabled' : 'enabled',
          networkAcls: {
            defaultAction,
            bypass: args.bypassAzureServices === false ? 'None' : 'AzureServices',
            ipRules: args.allowedIpRanges
              ? pulumi.output(args.allowedIpRanges).apply((ranges) => ranges.map((value) => ({ value })))
              : undefined,
            virtualNetworkRules: args.allowedSubnetIds
              ? pulumi.output(args.allowedSubnetIds).apply((ids) => ids.map((id) => ({ id })))
              : undefined,
          },
        },
      },
      { parent: this },
    );

    this.secrets = {};
    for (const seed of args.secrets ?? []) {
      this.secrets[seed.name] = new keyvault.Secret(
        `${name}-${seed.name}`,
        {
          resourceGroupName: args.resourceGroupName,
          vaultName: this.vault.name,
          secretName: seed.name,
          properties: { value: pulumi.secret(seed.value), contentType: seed.contentType },
        },
        { parent: this },
      );
    }

    this.vaultName = this.vault.name;
    this.vaultId = this.vault.id;
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? '');
    this.tenantId = pulumi.output(tenantId);
    this.registerOutputs({
      vaultName: this.vaultName,
      vaultId: this.vaultId,
      vaultUri: this.vaultUri,
      tenantId: this.tenantId,
    });
  }
}

/** Construction-time checks of {@link KeyVaultArgs}; throws a ValidationError naming the field. */
export function validateKeyVaultArgs(args: KeyVaultArgs): void {
  if (args.vaultName !== undefined) validateKeyVaultName(args.vaultName, 'vaultName');
  const retention = args.softDeleteRetentionInDays;
  if (retention !== undefined && (!Number.isInteger(retention) || retention < 7 || retention > 90)) {
    throw new ValidationError(
      'softDeleteRetentionInDays',
      `${retention} is out of range; Key Vault keeps deleted vaults and objects for a whole number of days from 7 to 90`,
    );
  }
  const seen = new Set<string>();
  (args.secrets ?? []).forEach((seed, i) => {
    validateKeyVaultObjectName(seed.name, `secrets[${i}].name`);
    // Key Vault names are case-insensitive: "Db" and "db" are the same secret.
    const key = seed.name.toLowerCase();
    if (seen.has(key)) {
      throw new ValidationError(
        `secrets[${i}].name`,
        `"${seed.name}" is seeded twice; give each secret one entry`,
      );
    }
    seen.add(key);
  });
}
