import { ValidationError } from './validation-error';

// Azure's naming rules for Key Vault (Microsoft.KeyVault naming rules). The provider itself only
// checks 3–24 and [-A-Za-z0-9] (azure-provider §1.1); Azure rejects the rest at creation, so a
// name breaking them can never resolve and we say so at synth time.

const VAULT_NAME = /^[A-Za-z](?!.*--)[-A-Za-z0-9]{1,22}[A-Za-z0-9]$/;
const OBJECT_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** Validates a Key Vault name: 3–24 of [-A-Za-z0-9], starts with a letter, no "--", no trailing "-". */
export function validateKeyVaultName(name: string, field: string): void {
  if (!VAULT_NAME.test(name)) {
    throw new ValidationError(
      field,
      `"${name}" is not a valid Key Vault name; Azure requires 3–24 characters of letters, digits and '-', starting with a letter, ending with a letter or digit, with no consecutive hyphens (e.g. "kv-team-a-prod"). Use the vault's name, not its URL`,
    );
  }
}

/** Validates a Key Vault secret/key/certificate name: 1–127 of [0-9A-Za-z-]. */
export function validateKeyVaultObjectName(name: string, field: string): void {
  if (!OBJECT_NAME.test(name)) {
    throw new ValidationError(
      field,
      `"${name}" is not a valid Key Vault object name; use 1–127 letters, digits and '-' (Key Vault names cannot contain '_', '.' or '/'; to choose the file name, set objectAlias)`,
    );
  }
}
