import { AddonProfileOptions } from '../core/addon-profile';
import { ValidationError } from '../core/validation/validation-error';
import {
  AddonProfileEntry,
  disabledKeyVaultSecretsProviderAddon,
  keyVaultSecretsProviderAddon,
} from './addon-profile';

// Which Secrets Store CSI Driver runs on a cluster, as one flag of one program, and the order in which
// a cluster may move between them (see docs/migration.md).
//
// Why three modes and not two: the self-hosted driver must be gone before the add-on is enabled (both
// own the CSIDriver `secrets-store.csi.k8s.io` and register with kubelet under that name), but within one
// `pulumi up` the engine deletes resources that left the program only after every create and update,
// so the add-on would be enabled first. `SWITCHING` is the step in between: the self-hosted install is
// removed and the add-on is not enabled yet.

/** Which driver a cluster runs. */
export enum SecretsStoreInstallMode {
  /** Our SelfHostedInstall (driver + Azure provider DaemonSets, CSIDriver, RBAC, CRDs); the add-on is off. */
  SELF_HOSTED = 'self-hosted',
  /**
   * Neither: the self-hosted install is removed (its CRDs are retained, so SecretProviderClasses stay) and the
   * add-on is still off. Running pods keep their mounted files; new mounts wait until the next mode is applied.
   */
  SWITCHING = 'switching',
  /** The AKS add-on `azure-keyvault-secrets-provider`. */
  ADDON = 'addon',
}

/** What a program creates in a mode. */
export interface InstallModePlan {
  /** Whether to create the SelfHostedInstall component. */
  readonly selfHostedInstall: boolean;
  /** The `addonProfiles` entry for the ManagedCluster (enabled only in ADDON mode). */
  readonly addonProfiles: Record<string, AddonProfileEntry>;
}

/** Parses a mode from stack config; throws a ValidationError naming `field`. */
export function parseInstallMode(text: string, field = 'installMode'): SecretsStoreInstallMode {
  const modes = Object.values(SecretsStoreInstallMode) as string[];
  if (!modes.includes(text)) {
    throw new ValidationError(
      field,
      `"${text}" is not an install mode; use one of ${modes.map((m) => `"${m}"`).join(', ')}`,
    );
  }
  return text as SecretsStoreInstallMode;
}

/**
 * The resources of `mode`. With `previousMode` (the mode of the last deployment, e.g. a stack output), a jump
 * that would run both drivers at once (self-hosted → add-on or back) is rejected: go through SWITCHING.
 */
export function installModePlan(
  mode: SecretsStoreInstallMode,
  addonOptions: AddonProfileOptions = {},
  previousMode?: SecretsStoreInstallMode,
): InstallModePlan {
  checkInstallModeTransition(previousMode, mode);
  return {
    selfHostedInstall: mode === SecretsStoreInstallMode.SELF_HOSTED,
    addonProfiles:
      mode === SecretsStoreInstallMode.ADDON
        ? keyVaultSecretsProviderAddon(addonOptions)
        : disabledKeyVaultSecretsProviderAddon(),
  };
}

/** Throws a ValidationError (field `installMode`) for a direct switch between the two drivers. */
export function checkInstallModeTransition(
  previous: SecretsStoreInstallMode | undefined,
  next: SecretsStoreInstallMode,
): void {
  const direct =
    (previous === SecretsStoreInstallMode.SELF_HOSTED && next === SecretsStoreInstallMode.ADDON) ||
    (previous === SecretsStoreInstallMode.ADDON && next === SecretsStoreInstallMode.SELF_HOSTED);
  if (direct) {
    throw new ValidationError(
      'installMode',
      `cannot go from "${previous}" to "${next}" in one deployment: Pulumi removes the old driver only after enabling the new one, and both would own the CSIDriver "secrets-store.csi.k8s.io". Deploy with installMode "${SecretsStoreInstallMode.SWITCHING}" first, then "${next}"`,
    );
  }
}
