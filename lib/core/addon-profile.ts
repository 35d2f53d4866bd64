import { formatDuration, parseDuration } from './duration';
import { optionalBoolean, optionalString } from './validation/input-guards';
import { ValidationError } from './validation/validation-error';

// The AKS add-on `azure-keyvault-secrets-provider` as a managed cluster addon profile
// (azure-provider §5.1–5.2): config values are strings, as `az aks enable-addons` writes them.

/** Key of the add-on in `ManagedCluster.addonProfiles` (casing matters to ARM). */
export const KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY = 'azureKeyvaultSecretsProvider';
/** The add-on's default rotation poll interval. */
export const DEFAULT_ROTATION_POLL_INTERVAL = '2m';

/** Options of the AKS Key Vault secrets provider add-on. */
export interface AddonProfileOptions {
  /**
   * Re-read mounted objects (and synced Secrets) from Key Vault every `rotationPollInterval`.
   * @default false, as `az aks enable-addons`
   */
  readonly enableSecretRotation?: boolean;
  /**
   * How often to poll for new versions when rotation is on (Go duration, e.g. "2m", "1h").
   * @default '2m'
   */
  readonly rotationPollInterval?: string;
}

/** The rendered profile, in the shape of azure-native's `ManagedClusterAddonProfileArgs`. */
export interface AddonProfile {
  readonly enabled: true;
  readonly config: {
    readonly enableSecretRotation: 'true' | 'false';
    readonly rotationPollInterval: string;
  };
}

/** Validates the options and renders the add-on profile (value of `addonProfiles.azureKeyvaultSecretsProvider`). */
export function renderAddonProfile(opts: AddonProfileOptions = {}): AddonProfile {
  optionalBoolean(opts.enableSecretRotation, 'enableSecretRotation');
  optionalString(opts.rotationPollInterval, 'rotationPollInterval', '"2m"');
  const rotation = opts.enableSecretRotation ?? false;
  const interval = opts.rotationPollInterval ?? DEFAULT_ROTATION_POLL_INTERVAL;
  if (opts.rotationPollInterval !== undefined) {
    const ms = parseDuration(interval, 'rotationPollInterval');
    if (ms <= 0) {
      throw new ValidationError(
        'rotationPollInterval',
        `"${interval}" is not a positive duration; use e.g. "2m" (the default) or "1h"`,
      );
    }
    if (!rotation) {
      throw new ValidationError(
        'rotationPollInterval',
        `"${interval}" is set but enableSecretRotation is false, so it would be ignored; set enableSecretRotation: true or remove rotationPollInterval`,
      );
    }
    if (ms < 1000) {
      throw new ValidationError(
        'rotationPollInterval',
        `"${interval}" (${formatDuration(ms)}) would poll Key Vault more than once a second per pod and hit its throttling limits; use at least "1s", typically "2m" or more`,
      );
    }
  }
  return {
    enabled: true,
    config: { enableSecretRotation: rotation ? 'true' : 'false', rotationPollInterval: interval },
  };
}
