import {
  AddonProfileOptions,
  KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY,
  renderAddonProfile,
} from '../core/addon-profile';

// The AKS add-on is not a resource of its own: it is an entry of `ManagedCluster.addonProfiles`.
// These helpers return that entry; the options and their rules live in the shared core.

/** An `addonProfiles` entry in the shape of azure-native's `ManagedClusterAddonProfileArgs`. */
export interface AddonProfileEntry {
  enabled: boolean;
  config?: Record<string, string>;
}

/**
 * `{ azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation, rotationPollInterval } } }`
 * for `containerservice.ManagedCluster` `addonProfiles` (spread it next to other add-ons). Config values are
 * strings, as ARM expects. Throws a ValidationError naming the field for a bad interval.
 */
export function keyVaultSecretsProviderAddon(
  opts: AddonProfileOptions = {},
): Record<string, AddonProfileEntry> {
  const profile = renderAddonProfile(opts);
  return {
    [KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY]: { enabled: profile.enabled, config: { ...profile.config } },
  };
}

/**
 * The add-on entry switched off (what `az aks disable-addons -a azure-keyvault-secrets-provider` sets), e.g. while
 * the self-hosted install still runs during a migration.
 */
export function disabledKeyVaultSecretsProviderAddon(): Record<string, AddonProfileEntry> {
  return { [KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY]: { enabled: false } };
}
