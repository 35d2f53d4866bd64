// Bounds on everything a pod author controls in a Mount. SecretProviderClass parameters and volume
// attributes reach the provider unfiltered, and what it keeps per identity (credentials, cache
// keys, tokens) is sized by them; upstream bounds none of it. Each check runs before the value is
// parsed or used, names the limit and the size it saw, and never echoes an oversized value.
import { OBJECT_STRING_FIELDS, ParsedKeyVaultObject } from '../../lib/core/key-vault-objects';
import {
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  SERVICE_ACCOUNT_NAME_KEY,
  SERVICE_ACCOUNT_TOKENS_KEY,
} from '../wire/csi';
import { MountRequestError } from './mount-failure';

const KiB = 1024;

export const MOUNT_LIMITS = {
  /** The `attributes` JSON (SPC parameters + pod info). */
  attributesBytes: 1024 * KiB,
  /** The `secrets` JSON (nodePublishSecretRef data; a Kubernetes Secret holds at most 1 MiB). */
  secretsBytes: 1024 * KiB,
  /** `clientid` / `clientsecret` in the secrets. */
  servicePrincipalFieldBytes: 4 * KiB,
  /** The `permission` JSON. */
  permissionBytes: 32,
  /** `target_path` (PATH_MAX). */
  targetPathBytes: 4 * KiB,
  /** The `objects` YAML: the YAML parser costs ~5 µs per byte of CPU on the provider's one thread. */
  objectsYamlBytes: 128 * KiB,
  /** `csi.storage.k8s.io/serviceAccount.tokens` (a projected token is 1-2 KiB). */
  serviceAccountTokensBytes: 16 * KiB,
  /** tenantID / clientID / userAssignedIdentityID: they key credentials and caches. */
  identityParameterBytes: 256,
  /** `cloudEnvFileName` (PATH_MAX). */
  cloudEnvFileNameBytes: 4 * KiB,
  /** Every other parameter the provider reads. */
  parameterBytes: 1 * KiB,
  /** Each string field of one object before any check of ours or upstream's echoes it. */
  objectFieldBytes: 1 * KiB,
  /** File name (alias or name) of one object. */
  fileNameBytes: 1 * KiB,
  /** One element of a file name (NAME_MAX). */
  fileNameElementBytes: 255,
  /** Object versions one Mount fetches: one per object, N per objectVersionHistory N. */
  versionsPerMount: 1000,
  /** A cloud environment file (the real ones are under 2 KiB). */
  cloudEnvFileBytes: 64 * KiB,
} as const;

const IDENTITY_PARAMETERS = ['tenantID', 'tenantId', 'clientID', 'userAssignedIdentityID'];
const OTHER_PARAMETERS = [
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  SERVICE_ACCOUNT_NAME_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  'keyvaultName',
  'cloudName',
  'usePodIdentity',
  'useVMManagedIdentity',
  'useAzureTokenProxy',
];

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

function tooLarge(what: string, size: number, limit: number, fix: string): MountRequestError {
  return new MountRequestError(
    `${what} is ${size} bytes, more than the ${limit} this provider accepts; ${fix}`,
  );
}

/** Sizes of the raw request fields, checked before any JSON is parsed. */
export function checkRequestSizes(request: {
  readonly attributes: string;
  readonly secrets: string;
  readonly permission: string;
  readonly target_path?: string;
}): void {
  const checks: Array<[string, string, number, string]> = [
    [
      'the attributes JSON',
      request.attributes,
      MOUNT_LIMITS.attributesBytes,
      'shrink the SecretProviderClass parameters',
    ],
    [
      'the secrets JSON (nodePublishSecretRef data)',
      request.secrets,
      MOUNT_LIMITS.secretsBytes,
      'reference a Secret holding only clientid and clientsecret',
    ],
    ['the permission JSON', request.permission, MOUNT_LIMITS.permissionBytes, 'send a decimal file mode'],
    ['target_path', request.target_path ?? '', MOUNT_LIMITS.targetPathBytes, 'use a shorter kubelet root'],
  ];
  for (const [what, value, limit, fix] of checks) {
    const size = bytes(value);
    if (size > limit) throw tooLarge(what, size, limit, fix);
  }
}

/** Sizes of the parameters the provider reads, checked right after the attributes are decoded. */
export function checkParameterSizes(attributes: Readonly<Record<string, string>>): void {
  const limits: Array<[string, number]> = [
    ['objects', MOUNT_LIMITS.objectsYamlBytes],
    [SERVICE_ACCOUNT_TOKENS_KEY, MOUNT_LIMITS.serviceAccountTokensBytes],
    ['cloudEnvFileName', MOUNT_LIMITS.cloudEnvFileNameBytes],
    ...IDENTITY_PARAMETERS.map((key): [string, number] => [key, MOUNT_LIMITS.identityParameterBytes]),
    ...OTHER_PARAMETERS.map((key): [string, number] => [key, MOUNT_LIMITS.parameterBytes]),
  ];
  for (const [key, limit] of limits) {
    const value = attributes[key];
    if (value === undefined) continue;
    const size = bytes(value);
    if (size > limit)
      throw tooLarge(
        `parameter ${key}`,
        size,
        limit,
        key === 'objects'
          ? 'split the objects over several SecretProviderClasses'
          : 'check the SecretProviderClass parameters',
      );
  }
}

/** Sizes of the service principal fields in the nodePublishSecretRef data. */
export function checkSecretsSizes(secrets: Readonly<Record<string, string>> | undefined): void {
  for (const [key, value] of Object.entries(secrets ?? {})) {
    const lower = key.toLowerCase();
    if (lower !== 'clientid' && lower !== 'clientsecret') continue;
    const size = bytes(value);
    if (size > MOUNT_LIMITS.servicePrincipalFieldBytes)
      throw tooLarge(
        `${lower} in the nodePublishSecretRef secret`,
        size,
        MOUNT_LIMITS.servicePrincipalFieldBytes,
        'put the service principal client id and secret there',
      );
  }
}

/** Index and name of an object for messages that cannot echo its fields. */
function objectLabel(index: number): string {
  return `object ${index} of the objects parameter`;
}

/** Each field's size, as soon as the object is decoded (before any check echoes a field). */
export function checkObjectFieldSizes(obj: ParsedKeyVaultObject, index: number): void {
  for (const field of OBJECT_STRING_FIELDS) {
    const size = bytes(obj[field]);
    if (size > MOUNT_LIMITS.objectFieldBytes)
      throw tooLarge(
        `${field} of ${objectLabel(index)}`,
        size,
        MOUNT_LIMITS.objectFieldBytes,
        'Key Vault names are at most 127 characters',
      );
  }
}

// Key Vault's own rule for secret, key and certificate names, and its version ids (32 hex digits).
const KEY_VAULT_OBJECT_NAME = /^[0-9A-Za-z-]{1,127}$/;
const KEY_VAULT_VERSION = /^[0-9A-Za-z]{0,64}$/;
// C0 controls and DEL: never valid in a file name the driver writes, and they garble logs and Events.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Our checks of one object, after every check upstream makes (upstream sends any name to Key Vault
 * and any file name to the driver). Returns the reason, undefined when the object is fine.
 */
export function objectProblem(obj: ParsedKeyVaultObject): string | undefined {
  if (!KEY_VAULT_OBJECT_NAME.test(obj.objectName))
    return 'objectName must be 1-127 letters, digits and dashes (the Key Vault rule for object names)';
  if (!KEY_VAULT_VERSION.test(obj.objectVersion))
    return 'objectVersion must be empty, "latest" or a Key Vault version id (32 letters and digits)';
  const fileName = obj.objectAlias || obj.objectName;
  const control = CONTROL_CHARACTER.exec(fileName);
  if (control)
    return `file name must not contain control characters (U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()} at position ${control.index})`;
  if (bytes(fileName) > MOUNT_LIMITS.fileNameBytes)
    return `file name must be at most ${MOUNT_LIMITS.fileNameBytes} bytes`;
  for (const element of fileName.split('/')) {
    if (element === '' || element === '.')
      return "file name must not have empty or '.' path elements (a//b, a/./b, a trailing /)";
    if (bytes(element) > MOUNT_LIMITS.fileNameElementBytes)
      return `each path element of a file name must be at most ${MOUNT_LIMITS.fileNameElementBytes} bytes`;
  }
  return undefined;
}

/** The number of versions the objects ask for, bounded. */
export function checkVersionCount(objects: readonly ParsedKeyVaultObject[]): void {
  const versions = objects.reduce((sum, obj) => sum + Math.max(1, obj.objectVersionHistory), 0);
  if (versions > MOUNT_LIMITS.versionsPerMount)
    throw new MountRequestError(
      `the objects ask for ${versions} object versions (one per object, N per objectVersionHistory N), more than the ${MOUNT_LIMITS.versionsPerMount} one Mount fetches; lower objectVersionHistory or split the objects over several SecretProviderClasses`,
    );
}

/**
 * Two objects claiming one file, or a file and a history directory of one name (`a` and `a/0`),
 * checked before anything is fetched; upstream leaves the driver to pick a winner.
 */
export function checkFileNamesDistinct(objects: readonly ParsedKeyVaultObject[]): void {
  const claims = new Map<string, { id: string; directory: boolean }>();
  for (const obj of objects) {
    const name = obj.objectAlias || obj.objectName;
    const id = `${obj.objectType}/${obj.objectName}`;
    const directory = obj.objectVersionHistory > 1;
    const other = claims.get(name);
    if (other !== undefined)
      throw new MountRequestError(
        `objects ${other.id} and ${id} both write ${JSON.stringify(name)}${other.directory || directory ? ' (objectVersionHistory makes it a directory)' : ''}; give one of them another objectAlias`,
      );
    claims.set(name, { id, directory });
  }
  for (const [name, { id }] of claims) {
    const elements = name.split('/');
    for (let i = 1; i < elements.length; i++) {
      const parent = claims.get(elements.slice(0, i).join('/'));
      if (parent !== undefined && !parent.directory)
        throw new MountRequestError(
          `object ${id} writes ${JSON.stringify(name)} inside the file ${JSON.stringify(elements.slice(0, i).join('/'))} of object ${parent.id}; give one of them another objectAlias`,
        );
    }
  }
}
