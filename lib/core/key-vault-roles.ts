// Built-in Azure RBAC role definitions of the Key Vault data plane (azure-provider §6.1), and the
// least-privilege set a mount needs for the object types it reads.

import { KeyVaultObjectType } from './key-vault-objects';
import { ValidationError } from './validation/validation-error';

/** Built-in Key Vault role definition GUIDs. */
export enum KeyVaultRole {
  /** Read secret contents, including the secret (private key) part of certificates. */
  SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6',
  /** Read entire certificate contents, including the secret and key portion. */
  CERTIFICATE_USER = 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
  /** Read metadata only; no secret values. */
  READER = '21090545-7ca7-4776-b22c-e363652d74d2',
  /** Cryptographic operations with keys, including reading the public key. */
  CRYPTO_USER = '12338af0-0e69-4776-bea7-57ae8d297424',
  /** Manage secrets (e.g. to seed them). */
  SECRETS_OFFICER = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  CERTIFICATES_OFFICER = 'a4417e6f-fecd-4de8-b567-7b0420556985',
  CRYPTO_OFFICER = '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
  /** All data-plane operations. */
  ADMINISTRATOR = '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  CRYPTO_SERVICE_ENCRYPTION_USER = 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
  PURGE_OPERATOR = 'a68e7c17-0ab2-4c09-9a58-125dae29748c',
  /** Assign the roles above. */
  DATA_ACCESS_ADMINISTRATOR = '8b54135c-b56d-4d72-a534-26097cfdc8d8',
  /** Control plane only, no data access. */
  CONTRIBUTOR = 'f25e0fa2-a7c8-4377-a976-54943a77a395',
}

/** Full role definition id for a subscription: `/subscriptions/<sub>/providers/Microsoft.Authorization/roleDefinitions/<guid>`. */
export function roleDefinitionId(subscriptionId: string, role: KeyVaultRole): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`;
}

/**
 * The roles an identity needs to mount objects of the given types, least privilege first. Data
 * actions are from Azure's built-in role definitions (learn.microsoft.com, built-in-roles/security):
 * - `secret` → Secrets User (`secrets/getSecret/action` + `readMetadata`): the provider GETs the
 *   secret. This is also how a certificate's private key or PFX is read, so a certificate read
 *   "as a secret" needs Secrets User, not Certificate User.
 * - `cert` and `key` → Reader (the wildcard read data action on every vault item + `secrets/readMetadata/action`): the provider only
 *   GETs the certificate's public `cer` and the key's public material, which `certificates/read` and
 *   `keys/read` allow ("properties and public material of a key"), and lists versions for history.
 *   The AKS docs suggest Certificate User here, but that role also carries
 *   `secrets/getSecret/action`, i.e. every secret value (and certificate private key) in the vault.
 * Each role appears once, in a stable order.
 */
export function rolesForObjectTypes(types: Iterable<KeyVaultObjectType>): KeyVaultRole[] {
  const wanted = new Set<KeyVaultRole>();
  for (const type of types) {
    if (type === KeyVaultObjectType.SECRET) wanted.add(KeyVaultRole.SECRETS_USER);
    else if (type === KeyVaultObjectType.CERT || type === KeyVaultObjectType.KEY)
      wanted.add(KeyVaultRole.READER);
    else {
      throw new ValidationError(
        'objectType',
        `unknown Key Vault object type "${String(type)}"; use KeyVaultObjectType.SECRET, KEY or CERT`,
      );
    }
  }
  return [KeyVaultRole.SECRETS_USER, KeyVaultRole.READER].filter((role) => wanted.has(role));
}
