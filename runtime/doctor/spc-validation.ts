// A SecretProviderClass as it is in the cluster, read back into the lib/core model and run through the
// same rules the constructs apply at synth time (validateSecretProviderClass), so the doctor says which
// field is wrong in the words of the object the user wrote: `spec.parameters.clientID`, not
// `workloadIdentityClientId`. Only the reading back is here; the rules are lib/core's.
import {
  AzureCloud,
  KeyVaultIdentityProps,
  KeyVaultObject,
  KeyVaultObjectType,
  ObjectEncoding,
  ObjectFormat,
  parseAndCheckObjectsParameter,
  ParsedKeyVaultObject,
  SecretObject,
  SecretProviderClassProps,
  SecretType,
  mountedFileNames,
  validateSecretProviderClass,
  ValidationError,
  ValidationProblem,
} from '../../lib/core';
import { GO_PARSEBOOL_FALSE, GO_PARSEBOOL_TRUE } from '../../lib/core/install/admission-policy';
import type { SecretProviderClass } from '../driver/cluster/kube/kube-types';

/** The identity an SPC selects, as the Azure provider reads its parameters. */
export type SpcIdentityMode =
  | 'workload-identity'
  | 'vm-managed-identity'
  | 'service-principal'
  | 'pod-identity'
  | 'identity-binding'
  | 'none';

export interface SpcIdentity {
  readonly mode: SpcIdentityMode;
  /** `clientID` (workload identity, identity binding). */
  readonly clientId?: string;
  /** `userAssignedIdentityID` (VM managed identity; empty = system-assigned). */
  readonly userAssignedIdentityId?: string;
  readonly tenantId?: string;
}

/** A bad field of the live object and what to do about it. */
export interface SpcProblem {
  /** Path in the SecretProviderClass (or the pod volume, for nodePublishSecretRef). */
  readonly field: string;
  readonly detail: string;
}

export interface SpcReading {
  /** False for an SPC of another provider: only the generic checks apply. */
  readonly azure: boolean;
  readonly identity: SpcIdentity;
  readonly vault?: string;
  readonly problems: readonly SpcProblem[];
  /** Objects as the provider decodes them (empty when `objects` does not parse). */
  readonly objects: readonly ParsedKeyVaultObject[];
  /** Every file name the mount can hold (aliases, `.crt`/`.key` of secrets, history entries). */
  readonly fileNames: readonly string[];
  /** `spec.secretObjects`: Secret name → its keys. */
  readonly syncedSecrets: ReadonlyArray<{ readonly secretName: string; readonly keys: readonly string[] }>;
}

/** What the pod's volume adds to the SPC (the service principal Secret). */
export interface VolumeContext {
  /** `nodePublishSecretRef.name` of the pod volume; undefined when the volume has none. */
  readonly nodePublishSecretName?: string;
  /** False when there is no pod (SPC checked alone): service principal mode is then assumed possible. */
  readonly known: boolean;
}

// lib/core's prop names as they are spelled in the SPC.
const PARAMETER_OF: Record<string, string> = {
  keyVaultName: 'spec.parameters.keyvaultName',
  tenantId: 'spec.parameters.tenantId',
  cloudName: 'spec.parameters.cloudName',
  cloudEnvFileName: 'spec.parameters.cloudEnvFileName',
  workloadIdentityClientId: 'spec.parameters.clientID',
  vmManagedIdentity: 'spec.parameters.useVMManagedIdentity',
  userAssignedIdentityClientId: 'spec.parameters.userAssignedIdentityID',
  servicePrincipalSecretName: 'volumes[].csi.nodePublishSecretRef.name',
  identity: 'spec.parameters (identity)',
  name: 'metadata.name',
  namespace: 'metadata.namespace',
  labels: 'metadata.labels',
  annotations: 'metadata.annotations',
};

const WORD_OF: Record<string, string> = {
  keyVaultName: 'keyvaultName',
  workloadIdentityClientId: 'clientID',
  vmManagedIdentity: 'useVMManagedIdentity',
  userAssignedIdentityClientId: 'userAssignedIdentityID',
  servicePrincipalSecretName: "the volume's nodePublishSecretRef",
  'KeyVaultObjectType.SECRET': 'secret',
  'KeyVaultObjectType.KEY': 'key',
  'KeyVaultObjectType.CERT': 'cert',
  'AzureCloud.STACK': 'AzureStackCloud',
  '(KeyVaultObjectType)': '',
  '(ObjectFormat)': '',
  '(ObjectEncoding)': '',
  '(SecretType)': '',
  '(AzureCloud)': '',
};
const WORDS = new RegExp(
  Object.keys(WORD_OF)
    .map((word) => word.replace(/[.()]/g, '\\$&'))
    .map((word) => (/^\w/.test(word) ? `\\b${word}\\b` : word))
    .join('|'),
  'g',
);

/** `objects[2].objectAlias` → `spec.parameters.objects array[2].objectAlias`, and so on. */
export function spcFieldOf(libField: string, tenantKey: string): string {
  if (libField === 'tenantId') return `spec.parameters.${tenantKey}`;
  const objects = /^objects(.*)$/.exec(libField);
  if (objects) return `spec.parameters.objects${objects[1] ? ` array${objects[1]}` : ''}`;
  if (libField.startsWith('secretObjects')) return `spec.${libField}`;
  return PARAMETER_OF[libField] ?? libField;
}

/** lib/core's detail in the SPC's words. */
export function spcDetailOf(detail: string): string {
  return detail
    .replace(WORDS, (word) => WORD_OF[word])
    .replace(/ {2,}/g, ' ')
    .replace(/ ([;,.])/g, '$1')
    .trim();
}

function goBool(text: string): boolean | undefined {
  if ((GO_PARSEBOOL_TRUE as readonly string[]).includes(text)) return true;
  if ((GO_PARSEBOOL_FALSE as readonly string[]).includes(text)) return false;
  return text === '' ? false : undefined;
}

function enumValue<T extends string>(values: Record<string, T>, text: string): T | string {
  return Object.values(values).find((v) => v.toLowerCase() === text.toLowerCase()) ?? text;
}

/** A parsed object in the typed form lib/core validates. */
function typedObject(parsed: ParsedKeyVaultObject): KeyVaultObject {
  const optional = (text: string) => (text === '' ? undefined : text);
  return {
    objectName: parsed.objectName,
    objectType: parsed.objectType as KeyVaultObjectType,
    objectAlias: optional(parsed.objectAlias),
    objectVersion: optional(parsed.objectVersion),
    objectVersionHistory: parsed.objectVersionHistory === 0 ? undefined : parsed.objectVersionHistory,
    objectFormat: parsed.objectFormat
      ? (enumValue(ObjectFormat, parsed.objectFormat) as ObjectFormat)
      : undefined,
    objectEncoding: parsed.objectEncoding
      ? (enumValue(ObjectEncoding, parsed.objectEncoding) as ObjectEncoding)
      : undefined,
    filePermission: optional(parsed.filePermission),
  };
}

function typedSecretObjects(spc: SecretProviderClass): SecretObject[] {
  return (spc.spec?.secretObjects ?? []).map((secret) => ({
    secretName: secret.secretName ?? '',
    type: (secret.type || undefined) as SecretType | undefined,
    data: (secret.data ?? []).map((entry) => ({
      objectName: (entry.objectName ?? '').trim(),
      key: entry.key ?? '',
    })),
    labels: secret.labels,
    annotations: secret.annotations,
  }));
}

/** Reads the SPC as the Azure provider would and checks it with lib/core's rules. */
export function readSecretProviderClass(spc: SecretProviderClass, volume: VolumeContext): SpcReading {
  const params = spc.spec?.parameters ?? {};
  const get = (key: string) => (typeof params[key] === 'string' ? params[key].trim() : '');
  const problems: SpcProblem[] = [];
  const syncedSecrets = (spc.spec?.secretObjects ?? []).map((s) => ({
    secretName: s.secretName ?? '',
    keys: (s.data ?? []).map((d) => d.key ?? ''),
  }));
  if ((spc.spec?.provider ?? '') !== 'azure') {
    return { azure: false, identity: { mode: 'none' }, problems, objects: [], fileNames: [], syncedSecrets };
  }

  const flags: Record<string, boolean> = {};
  for (const flag of ['usePodIdentity', 'useVMManagedIdentity', 'useAzureTokenProxy']) {
    const value = goBool(get(flag));
    if (value === undefined) {
      problems.push({
        field: `spec.parameters.${flag}`,
        detail: `"${get(flag)}" is not a boolean the Azure provider reads; write "true" or "false"`,
      });
    }
    flags[flag] = value === true;
  }
  const trueFlags = Object.keys(flags).filter((flag) => flags[flag]);
  if (trueFlags.length > 1) {
    problems.push({
      field: 'spec.parameters',
      detail: `${trueFlags.join(' and ')} are all "true", but the Azure provider allows one identity mode at a time ("only one identity mode can be enabled at a time"); keep one`,
    });
  }
  const tenantKey = get('tenantID') ? 'tenantID' : 'tenantId';
  const tenantId = get('tenantID') || get('tenantId');
  const clientId = get('clientID');
  const userAssigned = get('userAssignedIdentityID');

  let identity: SpcIdentity;
  let identityProps: Partial<KeyVaultIdentityProps>;
  let identityChecked = true;
  if (flags.usePodIdentity) {
    identity = { mode: 'pod-identity', tenantId };
    identityProps = { vmManagedIdentity: true }; // stands in: lib/core has no pod identity (deprecated)
    identityChecked = false;
  } else if (flags.useAzureTokenProxy) {
    identity = { mode: 'identity-binding', clientId, tenantId };
    identityProps = { workloadIdentityClientId: clientId || undefined };
  } else if (clientId) {
    identity = { mode: 'workload-identity', clientId, tenantId };
    identityProps = {
      workloadIdentityClientId: clientId,
      ...(flags.useVMManagedIdentity ? { vmManagedIdentity: true } : {}),
    };
  } else if (flags.useVMManagedIdentity) {
    identity = { mode: 'vm-managed-identity', userAssignedIdentityId: userAssigned, tenantId };
    identityProps = { vmManagedIdentity: true, userAssignedIdentityClientId: userAssigned || undefined };
  } else if (!volume.known || volume.nodePublishSecretName) {
    identity = { mode: 'service-principal', tenantId };
    identityProps = { servicePrincipalSecretName: volume.nodePublishSecretName ?? 'checked-per-pod' };
  } else {
    identity = { mode: 'none', tenantId };
    identityProps = {};
    if (userAssigned) {
      problems.push({
        field: 'spec.parameters.useVMManagedIdentity',
        detail: `userAssignedIdentityID is set ("${userAssigned}") but useVMManagedIdentity is not "true", so the provider ignores it and finds no identity; set useVMManagedIdentity: "true"`,
      });
    }
  }

  let objects: ParsedKeyVaultObject[] = [];
  let objectsParsed = false;
  const objectsText = get('objects');
  if (objectsText !== '') {
    try {
      objects = parseAndCheckObjectsParameter(objectsText);
      objectsParsed = true;
    } catch (err) {
      problems.push({ field: 'spec.parameters.objects', detail: (err as Error).message });
    }
  }
  (spc.spec?.secretObjects ?? []).forEach((secret, i) => {
    // The driver refuses these when it syncs (lib/core renders the type, so it never meets them).
    if (!secret.type)
      problems.push({
        field: `spec.secretObjects[${i}].type`,
        detail:
          'is empty, and the driver syncs no Secret without a type; set e.g. Opaque or kubernetes.io/tls',
      });
  });

  const typedObjects = objects.map(typedObject);
  const cloudName = get('cloudName');
  const props: SecretProviderClassProps = {
    name: spc.metadata.name ?? '',
    keyVaultName: get('keyvaultName'),
    tenantId,
    ...(cloudName ? { cloudName: enumValue(AzureCloud, cloudName) as AzureCloud } : {}),
    ...(get('cloudEnvFileName') ? { cloudEnvFileName: get('cloudEnvFileName') } : {}),
    ...identityProps,
    // An unparsable objects parameter is reported above; lib/core then checks the rest with a stand-in.
    objects:
      objectsParsed || objectsText === ''
        ? typedObjects
        : [{ objectName: 'x', objectType: KeyVaultObjectType.SECRET }],
    ...(spc.spec?.secretObjects && objectsParsed ? { secretObjects: typedSecretObjects(spc) } : {}),
  };
  let libProblems: readonly ValidationProblem[] = [];
  try {
    validateSecretProviderClass(props);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    libProblems = err.problems;
  }
  for (const problem of libProblems) {
    if (!identityChecked && /^(identity|vmManagedIdentity|userAssignedIdentityClientId)/.test(problem.field))
      continue;
    if (problem.field === 'identity' && identity.mode === 'identity-binding') {
      problems.push({
        field: 'spec.parameters.clientID',
        detail:
          "is required for identity binding (useAzureTokenProxy): set the user-assigned identity's client id",
      });
      continue;
    }
    if (problem.field === 'identity' && identity.mode === 'none') {
      problems.push({
        field: 'spec.parameters (identity)',
        detail:
          'no identity mode is set: set clientID (workload identity, recommended), or useVMManagedIdentity: "true" (with userAssignedIdentityID), or give the pod volume a nodePublishSecretRef (service principal)',
      });
      continue;
    }
    problems.push({ field: spcFieldOf(problem.field, tenantKey), detail: spcDetailOf(problem.detail) });
  }

  const fileNames = typedObjects.flatMap(mountedFileNames);
  return {
    azure: true,
    identity,
    vault: get('keyvaultName') || undefined,
    problems,
    objects,
    fileNames,
    syncedSecrets,
  };
}
