import * as pulumi from '@pulumi/pulumi';
import { ValidationError } from '../core/validation/validation-error';
import { knownValue } from './known-inputs';

// A Key Vault's ARM resource id names its subscription and its name; deriving both from the id means the
// role definitions, the scope and the SecretProviderClass can never point at different vaults.

const VAULT_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.KeyVault\/vaults\/([^/]+)$/i;

/** The parts of a vault resource id. */
export interface VaultIdParts {
  readonly subscriptionId: string;
  readonly resourceGroupName: string;
  readonly vaultName: string;
}

/** Parses `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>`; throws naming `field`. */
export function parseVaultId(id: string, field = 'vaultId'): VaultIdParts {
  const match = VAULT_ID.exec(id);
  if (!match) {
    throw new ValidationError(
      field,
      `"${id}" is not a Key Vault resource id; use KeyVault.vaultId (/subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>)`,
    );
  }
  return { subscriptionId: match[1], resourceGroupName: match[2], vaultName: match[3] };
}

/**
 * The vault name of `vaultId`; `keyVaultName`, when given, must name the same vault (Key Vault names are
 * case-insensitive). Checked now when both are known, else once they resolve.
 */
export function keyVaultNameOf(
  vaultId: pulumi.Input<string>,
  keyVaultName: pulumi.Input<string> | undefined,
): pulumi.Input<string> {
  const check = (id: string, given: string | undefined): string => {
    const fromId = parseVaultId(id).vaultName;
    if (given !== undefined && given.toLowerCase() !== fromId.toLowerCase()) {
      throw new ValidationError(
        'keyVaultName',
        `"${given}" is not the vault of vaultId ("${fromId}"); pass one vault's KeyVault.vaultId, and leave keyVaultName unset (it is taken from vaultId)`,
      );
    }
    return given ?? fromId;
  };
  const [id, given] = [knownValue(vaultId), knownValue(keyVaultName)];
  if (id !== undefined && (keyVaultName === undefined || given !== undefined)) return check(id, given);
  return pulumi
    .all([vaultId, keyVaultName])
    .apply(([resolvedId, resolvedName]) => check(resolvedId, resolvedName));
}
