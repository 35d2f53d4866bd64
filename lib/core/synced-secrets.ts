import { KeyVaultObject, KeyVaultObjectType, mountedFileNames } from './key-vault-objects';
import {
  validateAnnotations,
  validateDns1123Subdomain,
  validateLabels,
  validateSecretKey,
} from './validation/kube-names';
import { requireArray, requireString } from './validation/input-guards';
import { ValidationError } from './validation/validation-error';

// `spec.secretObjects`: Kubernetes Secrets the driver syncs from mounted files (upstream-driver §5).

/** Kubernetes Secret types the driver can sync into. */
export const SecretType = {
  OPAQUE: 'Opaque',
  /** Needs exactly the keys `tls.crt` and `tls.key` (the driver splits the PEM/PFX). */
  TLS: 'kubernetes.io/tls',
  /** Needs the key `.dockerconfigjson`. */
  DOCKER_CONFIG_JSON: 'kubernetes.io/dockerconfigjson',
  /** Needs the key `.dockercfg`. */
  DOCKER_CFG: 'kubernetes.io/dockercfg',
  /** Needs `username` and/or `password`. */
  BASIC_AUTH: 'kubernetes.io/basic-auth',
  /** Needs `ssh-privatekey`. */
  SSH_AUTH: 'kubernetes.io/ssh-auth',
  BOOTSTRAP_TOKEN: 'bootstrap.kubernetes.io/token',
} as const;
/** One of the values of `SecretType` (`SecretType.X` or its literal text). */
export type SecretType = (typeof SecretType)[keyof typeof SecretType];

/** One Secret data entry taken from a mounted file. */
export interface SecretObjectData {
  /** File name in the mount: an object's alias, or its name when it has no alias. */
  readonly objectName: string;
  /** Key in the Secret's data. */
  readonly key: string;
}

/** A Kubernetes Secret to sync from the mounted content. */
export interface SecretObject {
  /** Name of the Secret (in the pod's namespace). */
  readonly secretName: string;
  /**
   * Secret type. Always rendered: the driver refuses a secretObject without one.
   * @default SecretType.OPAQUE
   */
  readonly type?: SecretType;
  /** Data entries; at least one. */
  readonly data: readonly SecretObjectData[];
  /**
   * Labels for the Secret (the driver adds `secrets-store.csi.k8s.io/managed=true`).
   * @default - none
   */
  readonly labels?: Record<string, string>;
  /**
   * Annotations for the Secret.
   * @default - none
   */
  readonly annotations?: Record<string, string>;
}

// Keys each type requires, as the API server enforces when the driver creates the Secret.
const REQUIRED_KEYS: Partial<Record<SecretType, { all?: string[]; any?: string[] }>> = {
  [SecretType.TLS]: { all: ['tls.crt', 'tls.key'] },
  [SecretType.DOCKER_CONFIG_JSON]: { all: ['.dockerconfigjson'] },
  [SecretType.DOCKER_CFG]: { all: ['.dockercfg'] },
  [SecretType.BASIC_AUTH]: { any: ['username', 'password'] },
  [SecretType.SSH_AUTH]: { all: ['ssh-privatekey'] },
};

function validateSecretObject(secret: SecretObject, objects: readonly KeyVaultObject[], field: string): void {
  requireString(secret.secretName, `${field}.secretName`, '"db-credentials"');
  validateDns1123Subdomain(secret.secretName, `${field}.secretName`);
  requireArray(secret.data, `${field}.data`, "[{ objectName: 'db-password', key: 'password' }]");
  const type = secret.type ?? SecretType.OPAQUE;
  if (!(Object.values(SecretType) as string[]).includes(type)) {
    throw new ValidationError(
      `${field}.type`,
      `"${type}" is not a supported Secret type; use one of ${Object.values(SecretType).join(', ')} (SecretType)`,
    );
  }
  if (secret.data.length === 0) {
    throw new ValidationError(
      `${field}.data`,
      `Secret "${secret.secretName}" has no data entries and the driver would not sync it; add at least one { objectName, key }`,
    );
  }
  // Which object mounts each file, so a TLS Secret can be checked against what that object holds.
  const sources = new Map(
    objects.flatMap((object) => mountedFileNames(object).map((name) => [name, object] as const)),
  );
  const fileNames = [...sources.keys()];
  const keys = new Set<string>();
  secret.data.forEach((entry, j) => {
    const at = `${field}.data[${j}]`;
    requireString(entry.objectName, `${at}.objectName`, 'an objectAlias or objectName such as "db-password"');
    requireString(entry.key, `${at}.key`, '"password"');
    validateSecretKey(entry.key, `${at}.key`);
    if (keys.has(entry.key)) {
      throw new ValidationError(
        `${at}.key`,
        `"${entry.key}" appears twice in Secret "${secret.secretName}"; each key must be unique`,
      );
    }
    keys.add(entry.key);
    if (type === SecretType.TLS && entry.key !== 'tls.crt' && entry.key !== 'tls.key') {
      throw new ValidationError(
        `${at}.key`,
        `"${entry.key}" is not allowed in a kubernetes.io/tls Secret; the driver only supports the keys "tls.crt" and "tls.key"`,
      );
    }
    if (!fileNames.includes(entry.objectName.trim())) {
      throw new ValidationError(
        `${at}.objectName`,
        `"${entry.objectName}" matches no mounted file; it must equal an object's objectAlias (or its objectName when it has no alias). Mounted files: ${fileNames
          .map((name) => `"${name}"`)
          .join(', ')}`,
      );
    }
    const source = sources.get(entry.objectName.trim())!;
    if (type === SecretType.TLS && source.objectType !== KeyVaultObjectType.SECRET) {
      throw new ValidationError(
        `${at}.objectName`,
        `"${entry.objectName}" is a ${source.objectType} object, which mounts only public material (no private key), so the driver cannot fill the kubernetes.io/tls Secret "${secret.secretName}" and its sync fails at mount; read the certificate through its secret instead: objectType "secret" with the certificate's name (objectFormat "pem")`,
      );
    }
  });
  const required = REQUIRED_KEYS[type];
  const missing = (required?.all ?? []).filter((key) => !keys.has(key));
  if (missing.length > 0) {
    throw new ValidationError(
      `${field}.data`,
      `Secret "${secret.secretName}" of type ${type} needs the key(s) ${missing.map((k) => `"${k}"`).join(', ')}; add a data entry for each`,
    );
  }
  if (required?.any && !required.any.some((key) => keys.has(key))) {
    throw new ValidationError(
      `${field}.data`,
      `Secret "${secret.secretName}" of type ${type} needs at least one of the keys ${required.any.map((k) => `"${k}"`).join(', ')}`,
    );
  }
  validateLabels(secret.labels, `${field}.labels`);
  validateAnnotations(secret.annotations, `${field}.annotations`);
}

/** Validates secretObjects against the mounted objects (names, keys, types, files). */
export function validateSecretObjects(
  secretObjects: readonly SecretObject[],
  objects: readonly KeyVaultObject[],
  field = 'secretObjects',
): void {
  const names = new Map<string, number>();
  secretObjects.forEach((secret, i) => {
    validateSecretObject(secret, objects, `${field}[${i}]`);
    const earlier = names.get(secret.secretName);
    if (earlier !== undefined) {
      throw new ValidationError(
        `${field}[${i}].secretName`,
        `"${secret.secretName}" is also used by ${field}[${earlier}]; the driver would overwrite one Secret with the other, so merge their data or rename one`,
      );
    }
    names.set(secret.secretName, i);
  });
}

/** Renders secretObjects as the SPC spec expects (type always present). */
export function renderSecretObjects(secretObjects: readonly SecretObject[]): Record<string, unknown>[] {
  return secretObjects.map((secret) => ({
    secretName: secret.secretName,
    type: secret.type ?? SecretType.OPAQUE,
    ...(secret.labels && Object.keys(secret.labels).length > 0 ? { labels: { ...secret.labels } } : {}),
    ...(secret.annotations && Object.keys(secret.annotations).length > 0
      ? { annotations: { ...secret.annotations } }
      : {}),
    data: secret.data.map((entry) => ({ objectName: entry.objectName, key: entry.key })),
  }));
}
