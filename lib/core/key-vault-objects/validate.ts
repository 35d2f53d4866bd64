import { validateKeyVaultObjectName } from '../validation/key-vault-names';
import { optionalString, requireString } from '../validation/input-guards';
import { ValidationError } from '../validation/validation-error';
import { fileNameError } from './check';
import { claimsOverlap, mountClaims, objectFileName } from './files';
import { KeyVaultObject, KeyVaultObjectType, ObjectEncoding, ObjectFormat } from './types';

// Synth-time validation of typed objects: everything the provider would reject at mount time, plus
// mistakes it silently accepts (bad filePermission, two objects writing one file).

const VERSION_ID = /^[0-9a-fA-F]{32}$/;
const INT32_MAX = 2 ** 31 - 1;

function oneOf(values: object): string {
  return Object.values(values)
    .map((v) => `"${v}"`)
    .join(', ');
}

function validateObject(object: KeyVaultObject, field: string): void {
  if (typeof object !== 'object' || object === null) {
    throw new ValidationError(
      field,
      "must be an object such as { objectName: 'db-password', objectType: KeyVaultObjectType.SECRET }",
    );
  }
  requireString(object.objectName, `${field}.objectName`, '"db-password"');
  optionalString(object.objectAlias, `${field}.objectAlias`, '"db-password.txt"');
  optionalString(object.objectVersion, `${field}.objectVersion`, 'the 32-hex-digit version id');
  // A number here is the classic trap: 0o644 from JavaScript is 420, which the provider reads as octal 0420.
  optionalString(object.filePermission, `${field}.filePermission`, '"0644"');
  validateKeyVaultObjectName(object.objectName, `${field}.objectName`);

  if (!(Object.values(KeyVaultObjectType) as string[]).includes(object.objectType)) {
    throw new ValidationError(
      `${field}.objectType`,
      `"${object.objectType}" is not an object type; use one of ${oneOf(KeyVaultObjectType)} (KeyVaultObjectType)`,
    );
  }
  const isSecret = object.objectType === KeyVaultObjectType.SECRET;

  if (object.objectAlias !== undefined) {
    const alias = object.objectAlias;
    if (alias !== alias.trim()) {
      throw new ValidationError(
        `${field}.objectAlias`,
        `"${alias}" has leading or trailing whitespace, which the provider trims, so the file would be "${alias.trim()}"; remove the whitespace`,
      );
    }
    if (alias.endsWith('/') || alias.includes('//') || alias.includes('\\')) {
      throw new ValidationError(
        `${field}.objectAlias`,
        `"${alias}" is not a file path (trailing '/', empty segment or backslash); use '/'-separated names such as "certs/tls.pem"`,
      );
    }
    const problem = fileNameError(alias);
    if (problem) {
      throw new ValidationError(
        `${field}.objectAlias`,
        `"${object.objectAlias}": ${problem}; use a relative path inside the mount such as "db-password" or "certs/tls.pem"`,
      );
    }
  }

  const history = object.objectVersionHistory;
  if (history !== undefined && (!Number.isInteger(history) || history < 0 || history > INT32_MAX)) {
    throw new ValidationError(
      `${field}.objectVersionHistory`,
      `${typeof history === 'number' ? history : JSON.stringify(history)} is not a whole number of versions; use 0 or 1 for a single file, or N > 1 to write the newest N versions as <alias>/0 … <alias>/N-1`,
    );
  }

  if (object.objectVersion !== undefined && object.objectVersion !== '') {
    const latestInHistory = object.objectVersion === 'latest' && (history ?? 0) > 1;
    if (!latestInHistory && !VERSION_ID.test(object.objectVersion)) {
      throw new ValidationError(
        `${field}.objectVersion`,
        `"${object.objectVersion}" is not a Key Vault version id; use the 32-hex-digit version from the object's id, or omit it for the latest version`,
      );
    }
  }

  if (object.objectFormat !== undefined) {
    if (!(Object.values(ObjectFormat) as string[]).includes(object.objectFormat)) {
      throw new ValidationError(
        `${field}.objectFormat`,
        `"${object.objectFormat}" is not a format; use one of ${oneOf(ObjectFormat)} (ObjectFormat)`,
      );
    }
    if (object.objectFormat === ObjectFormat.PFX && !isSecret) {
      throw new ValidationError(
        `${field}.objectFormat`,
        `"pfx" only works with objectType "secret" (a certificate's PFX is read through its secret); set objectType to KeyVaultObjectType.SECRET or remove objectFormat`,
      );
    }
  }

  if (object.objectEncoding !== undefined) {
    if (!(Object.values(ObjectEncoding) as string[]).includes(object.objectEncoding)) {
      throw new ValidationError(
        `${field}.objectEncoding`,
        `"${object.objectEncoding}" is not an encoding; use one of ${oneOf(ObjectEncoding)} (ObjectEncoding)`,
      );
    }
    if (!isSecret) {
      throw new ValidationError(
        `${field}.objectEncoding`,
        `"${object.objectEncoding}" only works with objectType "secret" (keys and certificates are written as PEM); remove objectEncoding`,
      );
    }
  }

  if (object.filePermission !== undefined) {
    const text = object.filePermission;
    // The provider parses with base 8 and silently uses mode 0 on failure (azure-provider §1.3).
    if (!/^[0-7]{1,4}$/.test(text) || parseInt(text, 8) > 0o777) {
      throw new ValidationError(
        `${field}.filePermission`,
        `"${text}" is not an octal file mode; use octal digits from "0000" to "0777" such as "0440" or "0644" (no "0o" prefix, no decimal 420)`,
      );
    }
  }
}

/** Validates a list of typed objects, including files that two objects would both write. */
export function validateKeyVaultObjects(objects: readonly KeyVaultObject[], field = 'objects'): void {
  if (objects.length === 0) {
    throw new ValidationError(
      field,
      'the list is empty, so the volume would mount no files; add at least one Key Vault object',
    );
  }
  objects.forEach((object, i) => validateObject(object, `${field}[${i}]`));

  const claims = objects.flatMap((object, index) => mountClaims(object).map((claim) => ({ claim, index })));
  for (let a = 0; a < claims.length; a++) {
    for (let b = a + 1; b < claims.length; b++) {
      const first = claims[a];
      const second = claims[b];
      if (first.index === second.index || !claimsOverlap(first.claim, second.claim)) continue;
      const one = objects[first.index];
      const two = objects[second.index];
      const where =
        first.claim.path === second.claim.path
          ? `would both write "${first.claim.path}"`
          : `need "${first.claim.path.length < second.claim.path.length ? first.claim.path : second.claim.path}" to be both a file and a directory`;
      const notes = [
        first.claim.directory || second.claim.directory
          ? 'objectVersionHistory > 1 writes a directory of versions'
          : '',
        first.claim.split || second.claim.split
          ? 'a certificate-backed secret also writes <name>.crt and <name>.key when the provider splits cert and key'
          : '',
      ].filter((note) => note !== '');
      throw new ValidationError(
        `${field}[${second.index}].objectAlias`,
        `${field}[${first.index}] ("${objectFileName(one)}") and ${field}[${second.index}] ("${objectFileName(two)}") ${where}${
          notes.length > 0 ? ` (${notes.join('; ')})` : ''
        }; give one of them a different objectAlias`,
      );
    }
  }
}
