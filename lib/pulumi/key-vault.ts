import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import * as keyvault from '@pulumi/azure-native/keyvault';
import * as network from '@pulumi/azure-native/network';
import { validateKeyVaultName, validateKeyVaultObjectName } from '../core/validation/key-vault-names';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';
import { checkedInput } from './known-inputs';

/** Pulumi's auto-naming appends 8 random characters to the component name. */
const AUTONAME_SUFFIX_LENGTH = 8;
const MAX_VAULT_NAME_LENGTH = 24;
/** The private DNS zone of Key Vault private endpoints in the public cloud. */
export const KEY_VAULT_PRIVATE_DNS_ZONE = 'privatelink.vaultcore.azure.net';

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
   * Vault name (3–24 characters: letters, digits and '-', starting with a letter, globally unique), e.g. from a
   * random name; checked when it is known.
   * @default - Pulumi auto-names it from the component name plus 8 random characters (so the name is at most 16 characters)
   */
  vaultName?: pulumi.Input<string>;
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
   * The add-on and workload identity components grant roles, so they need RBAC mode; `false` is refused (this
   * component creates no access policies, so nothing could read the vault).
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
   * Subnet of a private endpoint for the vault (e.g. the AKS node subnet or a shared endpoints subnet). Use it
   * with `publicNetworkAccess: false` for a private vault.
   * @default - no private endpoint
   */
  privateEndpointSubnetId?: pulumi.Input<string>;
  /**
   * Resource id of the private DNS zone `privatelink.vaultcore.azure.net` linked to the cluster's virtual
   * network; the endpoint registers its address there (a DNS zone group), so pods resolve the vault privately.
   * @default - required with `privateEndpointSubnetId`
   */
  privateDnsZoneId?: pulumi.Input<string>;
  /**
   * Azure region of the private endpoint (the subnet's).
   * @default - `location`
   */
  privateEndpointLocation?: pulumi.Input<string>;
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
  /** The private endpoint, with `privateEndpointSubnetId`. */
  public readonly privateEndpoint: network.PrivateEndpoint | undefined;
  /** Its DNS zone group (the A record in `privatelink.vaultcore.azure.net`). */
  public readonly privateDnsZoneGroup: network.PrivateDnsZoneGroup | undefined;
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
    const vaultName = validateKeyVaultArgs(args, name);
    super(componentType('KeyVault'), name, {}, opts);
    const blocked = networkRulesBlockAks(args);
    if (blocked) pulumi.log.warn(`KeyVault "${name}": ${blocked}`, this);

    const tenantId = args.tenantId ?? authorization.getClientConfigOutput({ parent: this }).tenantId;
    const defaultAction = args.networkDefaultAction ?? KeyVaultNetworkDefaultAction.ALLOW;
    this.vault = new keyvault.Vault(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName,
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

    if (args.privateEndpointSubnetId !== undefined) {
      this.privateEndpoint = new network.PrivateEndpoint(
        `${name}-pe`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.privateEndpointLocation ?? args.location,
          subnet: { id: args.privateEndpointSubnetId },
          privateLinkServiceConnections: [
            { name: `${name}-vault`, privateLinkServiceId: this.vault.id, groupIds: ['vault'] },
          ],
          tags: args.tags,
        },
        { parent: this },
      );
      this.privateDnsZoneGroup = new network.PrivateDnsZoneGroup(
        `${name}-pe-dns`,
        {
          resourceGroupName: args.resourceGroupName,
          privateEndpointName: this.privateEndpoint.name,
          privateDnsZoneGroupName: 'default',
          privateDnsZoneConfigs: [
            { name: KEY_VAULT_PRIVATE_DNS_ZONE.replace(/\./g, '-'), privateDnsZoneId: args.privateDnsZoneId },
          ],
        },
        { parent: this },
      );
    }

    this.vaultName = this.vault.name;
    this.vaultId = this.vault.id;
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? '');
    this.tenantId = pulumi.output(tenantId);
    this.registerOutputs({
      vault: this.vault,
      secrets: this.secrets,
      privateEndpoint: this.privateEndpoint,
      privateDnsZoneGroup: this.privateDnsZoneGroup,
      vaultName: this.vaultName,
      vaultId: this.vaultId,
      vaultUri: this.vaultUri,
      tenantId: this.tenantId,
    });
  }
}

/**
 * Construction-time checks of {@link KeyVaultArgs} (a vault name that is an Output is checked once it resolves);
 * returns the vault name input. Throws a ValidationError naming the field.
 */
export function validateKeyVaultArgs(
  args: KeyVaultArgs,
  componentName: string,
): pulumi.Input<string> | undefined {
  const vaultName =
    args.vaultName === undefined
      ? undefined
      : checkedInput(args.vaultName, (value) => validateKeyVaultName(value, 'vaultName'));
  if (args.enableRbacAuthorization === false) {
    throw new ValidationError(
      'enableRbacAuthorization',
      'false would switch the vault to access policies, and this component creates none, so no identity could read it; keep RBAC mode (the default) and grant roles with SecretStore or KeyVaultRoleAssignments',
    );
  }
  if ((args.privateEndpointSubnetId === undefined) !== (args.privateDnsZoneId === undefined)) {
    throw new ValidationError(
      args.privateEndpointSubnetId === undefined ? 'privateEndpointSubnetId' : 'privateDnsZoneId',
      `is required with ${args.privateEndpointSubnetId === undefined ? 'privateDnsZoneId' : 'privateEndpointSubnetId'}: without the DNS zone group, pods resolve the vault to its public address and the firewall refuses them; pass both`,
    );
  }
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
  if (vaultName === undefined) checkAutonamePrefix(componentName);
  return vaultName;
}

/** An auto-named vault is `<component name>` plus 8 random characters, so the component name must leave room. */
function checkAutonamePrefix(componentName: string): void {
  const room = MAX_VAULT_NAME_LENGTH - AUTONAME_SUFFIX_LENGTH;
  if (componentName.length > room) {
    throw new ValidationError(
      'vaultName',
      `is unset, so the vault is auto-named from the component name "${componentName}" plus ${AUTONAME_SUFFIX_LENGTH} random characters, which exceeds ${MAX_VAULT_NAME_LENGTH} characters; use a component name of at most ${room} characters or set vaultName`,
    );
  }
  try {
    // Random hex characters end the name, so only the prefix's own characters can break the rules.
    validateKeyVaultName(`${componentName}${'0'.repeat(AUTONAME_SUFFIX_LENGTH)}`, 'vaultName');
  } catch (e) {
    throw new ValidationError(
      'vaultName',
      `is unset, so the vault is auto-named from the component name "${componentName}", which a vault name cannot start with (${(e as Error).message}); rename the component or set vaultName`,
    );
  }
}

/**
 * Why the vault firewall would refuse the AKS nodes, or undefined. AKS is not a trusted Azure service for the
 * "AzureServices" bypass: the provider pods reach the vault from the node subnet like any client.
 */
export function networkRulesBlockAks(args: KeyVaultArgs): string | undefined {
  if (args.privateEndpointSubnetId !== undefined) return undefined;
  if (args.publicNetworkAccess === false) {
    return 'publicNetworkAccess is false and there is no private endpoint, so the AKS nodes cannot reach the vault; set privateEndpointSubnetId and privateDnsZoneId';
  }
  if (
    args.networkDefaultAction === KeyVaultNetworkDefaultAction.DENY &&
    args.allowedSubnetIds === undefined
  ) {
    return 'the firewall denies traffic no rule allows, and AKS is not a trusted Azure service (bypassAzureServices does not let it through); allow the node subnet in allowedSubnetIds (with the Microsoft.KeyVault service endpoint) or add a private endpoint, or mounts fail with 403 ForbiddenByFirewall';
  }
  return undefined;
}
