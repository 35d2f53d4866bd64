// Parsing of a MountRequest into what the provider needs, in the upstream order of checks and with
// the upstream error strings (reference azure-provider §1.4): pod name, pod namespace, the three
// identity booleans (Go ParseBool), their mutual exclusion, keyvaultName, tenant (tenantID before
// tenantId), the cloud, the identity, objects (shared core parser), each object's checks, and the
// vault URL. Every value is TrimSpace'd. Our additions (invalid filePermission, empty objects) come
// at the point where upstream would have silently continued.
import {
  checkParsedObject,
  parseObjectsParameter,
  ParsedKeyVaultObject,
} from '../../lib/core/key-vault-objects';
import { SERVE_LAST_KNOWN_CONTENT_PARAMETER } from '../../lib/core/last-known-content';
import { goParseBoolError, parseGoBool } from '../common/go-compat/parse-bool';
import { CloudEnvironment, CloudFileRules, resolveCloud } from './clouds';
import {
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  SERVICE_ACCOUNT_NAME_KEY,
  SERVICE_ACCOUNT_TOKENS_KEY,
} from '../wire/csi';
import type { MountRequest } from '../wire/provider-v1alpha1';
import { buildIdentityConfig, IdentityConfig, IdentityModeName } from './identity/auth-config';
import { MountRequestError } from './mount-failure';
import type { ObjectsCache } from './objects-cache';
import {
  checkFileNamesDistinct,
  checkObjectFieldSizes,
  checkParameterSizes,
  checkRequestSizes,
  checkSecretsSizes,
  checkVersionCount,
  objectProblem,
} from './request-limits';

export { MountRequestError } from './mount-failure';

/** The MountRequest fields the provider reads. */
export type MountRequestFields = Pick<MountRequest, 'attributes' | 'secrets' | 'permission'> &
  Partial<Pick<MountRequest, 'target_path'>>;

/** One object to fetch, with its resolved file mode. */
export interface MountObject extends ParsedKeyVaultObject {
  /** File mode: the object's `filePermission` (octal), else the request's permission. */
  readonly fileMode: number;
}

/** Everything a Mount needs, validated. */
export interface MountParameters {
  readonly podName: string;
  readonly podNamespace: string;
  readonly secretProviderClass: string;
  readonly keyvaultName: string;
  readonly tenantId: string;
  readonly cloud: CloudEnvironment;
  readonly identityMode: IdentityModeName;
  readonly identity: IdentityConfig;
  readonly objects: MountObject[];
  /** `https://<name>.<suffix>/`; '' when there are no objects (no vault check was made). */
  readonly vaultUrl: string;
  readonly defaultFileMode: number;
  /** `serveLastKnownContentOnOutage` (ours; upstream ignores it): last known content on a Key Vault outage. */
  readonly serveLastKnownContentOnOutage: boolean;
}

/** Options of the parameter parsing. */
export interface ParseMountRequestProps {
  /** Cloud when `cloudName` is empty (`--cloud-name`). */
  readonly defaultCloud: CloudEnvironment;
  /** Environment for `AZURE_ENVIRONMENT_FILEPATH`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where `cloudEnvFileName` may point (--cloud-env-file-dir). @default none: the parameter is refused */
  readonly cloudFiles?: CloudFileRules;
  /** Parsed `objects` texts to reuse (the MountService's). @default none: every Mount parses its own */
  readonly objectsCache?: ObjectsCache;
}

function jsonStringMap(text: string, what: 'attributes' | 'secrets'): Record<string, string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MountRequestError(`failed to unmarshal ${what}, error: ${(err as Error).message}`, false);
  }
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MountRequestError(
      `failed to unmarshal ${what}, error: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type map[string]string`,
      false,
    );
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item !== 'string') {
      throw new MountRequestError(
        `failed to unmarshal ${what}, error: json: cannot unmarshal ${item === null ? 'null' : typeof item} into Go value of type string (key ${JSON.stringify(key)})`,
        false,
      );
    }
  }
  return value as Record<string, string>;
}

function fileModeFromPermission(text: string): number {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MountRequestError(
      `failed to unmarshal file permission, error: ${(err as Error).message}`,
      false,
    );
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new MountRequestError(
      `failed to unmarshal file permission, error: json: cannot unmarshal ${JSON.stringify(value)} into Go value of type fs.FileMode`,
      false,
    );
  }
  return value;
}

function parseBoolParameter(attributes: Record<string, string>, key: string): boolean {
  const text = (attributes[key] ?? '').trim();
  if (text === '') return false;
  const value = parseGoBool(text);
  if (value === undefined)
    throw new MountRequestError(`failed to parse ${key} flag, error: ${goParseBoolError(text)}`);
  return value;
}

/** Go strconv.ParseInt(text, 8, 32), limited to permission bits (0..0777). */
function parseFilePermission(obj: ParsedKeyVaultObject, defaultMode: number): number {
  if (obj.filePermission === '') return defaultMode;
  const valid = /^\+?[0-7]+$/.test(obj.filePermission) && parseInt(obj.filePermission, 8) <= 0o777;
  if (!valid) {
    throw new MountRequestError(
      `failed to get objectType:${obj.objectType}, objectName:${obj.objectName}, objectVersion:${obj.objectVersion}: ` +
        `invalid filePermission ${JSON.stringify(obj.filePermission)}: use an octal file mode between 0000 and 0777, e.g. "0644" or "0400"`,
    );
  }
  return parseInt(obj.filePermission, 8);
}

/** Checks the vault name the upstream way (only when there is at least one object). */
export function vaultUrlFor(keyvaultName: string, cloud: CloudEnvironment): string {
  if (keyvaultName.length < 3 || keyvaultName.length > 24) {
    throw new MountRequestError(
      `failed to get vault: Invalid vault name: ${JSON.stringify(keyvaultName)}, must be between 3 and 24 chars`,
    );
  }
  if (!/^[-A-Za-z0-9]+$/.test(keyvaultName)) {
    throw new MountRequestError(
      `failed to get vault: Invalid vault name: ${JSON.stringify(keyvaultName)}, must match [-a-zA-Z0-9]{3,24}`,
    );
  }
  return `https://${keyvaultName}.${cloud.keyVaultDNSSuffix}/`;
}

export async function parseMountRequest(
  request: MountRequestFields,
  props: ParseMountRequestProps,
): Promise<MountParameters> {
  checkRequestSizes(request);
  const attributes = jsonStringMap(request.attributes, 'attributes') ?? {};
  checkParameterSizes(attributes);
  const secrets = jsonStringMap(request.secrets, 'secrets');
  checkSecretsSizes(secrets);
  const defaultFileMode = fileModeFromPermission(request.permission);
  const get = (key: string) => (attributes[key] ?? '').trim();

  const podName = get(POD_NAME_KEY);
  const podNamespace = get(POD_NAMESPACE_KEY);
  if (podName === '') throw new MountRequestError('pod name is not provided');
  if (podNamespace === '') throw new MountRequestError('pod namespace is not provided');

  const usePodIdentity = parseBoolParameter(attributes, 'usePodIdentity');
  const useVMManagedIdentity = parseBoolParameter(attributes, 'useVMManagedIdentity');
  const useAzureTokenProxy = parseBoolParameter(attributes, 'useAzureTokenProxy');
  const enabled = [usePodIdentity, useVMManagedIdentity, useAzureTokenProxy].filter(Boolean).length;
  if (enabled > 1) {
    throw new MountRequestError(
      'only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy',
    );
  }
  const identityMode: IdentityModeName = useAzureTokenProxy
    ? 'AzureTokenProxy'
    : useVMManagedIdentity
      ? 'VMManagedIdentity'
      : usePodIdentity
        ? 'PodIdentity'
        : 'None';

  const keyvaultName = get('keyvaultName');
  if (keyvaultName === '') throw new MountRequestError('keyvaultName is not provided');
  const tenantId = get('tenantID') || get('tenantId');
  if (tenantId === '') throw new MountRequestError('tenantId is not provided');

  const cloudName = get('cloudName');
  let cloud: CloudEnvironment;
  try {
    cloud = await resolveCloud({
      cloudName,
      cloudEnvFileName: get('cloudEnvFileName'),
      defaultCloud: props.defaultCloud,
      env: props.env,
      files: props.cloudFiles,
    });
  } catch (err) {
    throw new MountRequestError(`cloudName ${cloudName} is not valid, error: ${(err as Error).message}`);
  }

  let identity: IdentityConfig;
  try {
    identity = buildIdentityConfig({
      mode: identityMode,
      userAssignedIdentityId: get('userAssignedIdentityID'),
      clientId: get('clientID'),
      serviceAccountTokens: get(SERVICE_ACCOUNT_TOKENS_KEY),
      secrets,
      podName,
      podNamespace,
      serviceAccountName: get(SERVICE_ACCOUNT_NAME_KEY),
    });
  } catch (err) {
    throw new MountRequestError(
      `failed to build auth config for mode ${identityMode}: ${(err as Error).message}`,
    );
  }

  const objectsText = get('objects');
  if (objectsText === '') throw new MountRequestError('objects is not set');
  let parsed: readonly ParsedKeyVaultObject[];
  // Decode item 0, check it, decode item 1, ...: with two bad items, upstream's first error.
  // Field sizes are checked first, so no message echoes an oversized field.
  const parseObjects = (text: string) =>
    parseObjectsParameter(text, (obj, index) => {
      checkObjectFieldSizes(obj, index);
      checkParsedObject(obj);
    });
  try {
    parsed = props.objectsCache
      ? props.objectsCache.parse(objectsText, parseObjects)
      : parseObjects(objectsText);
  } catch (err) {
    throw new MountRequestError((err as Error).message);
  }
  // Upstream checks neither names nor filePermission, so our checks come after every check it makes.
  const objects: MountObject[] = parsed.map((obj) => {
    const problem = objectProblem(obj);
    if (problem !== undefined)
      throw new MountRequestError(
        `failed to get objectType:${obj.objectType}, objectName:${obj.objectName}, objectVersion:${obj.objectVersion}: ${problem}`,
      );
    return { ...obj, fileMode: parseFilePermission(obj, defaultFileMode) };
  });
  checkVersionCount(objects);
  checkFileNamesDistinct(objects);

  const vaultUrl = objects.length > 0 ? vaultUrlFor(keyvaultName, cloud) : '';
  // Our parameter, checked after every upstream check.
  const serveLastKnownContentOnOutage = parseBoolParameter(attributes, SERVE_LAST_KNOWN_CONTENT_PARAMETER);
  return {
    podName,
    podNamespace,
    secretProviderClass: get(SECRET_PROVIDER_CLASS_KEY),
    keyvaultName,
    tenantId,
    cloud,
    identityMode,
    identity,
    objects,
    vaultUrl,
    defaultFileMode,
    serveLastKnownContentOnOutage,
  };
}
