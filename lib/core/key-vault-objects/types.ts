// The Azure provider's per-object model (azure-provider §1.3): the typed spec the constructs take
// and the raw parsed form the runtime provider works with.

/** Which Key Vault collection an object is read from (`objectType`). */
export const KeyVaultObjectType = {
  /** A secret; also the way to read a certificate's private key (+ chain) or a PFX. */
  SECRET: 'secret',
  /** A key; the provider writes its public key as PEM. */
  KEY: 'key',
  /** A certificate; the provider writes the leaf certificate as PEM (no key, no chain). */
  CERT: 'cert',
} as const;
/** One of the values of `KeyVaultObjectType` (`KeyVaultObjectType.X` or its literal text). */
export type KeyVaultObjectType = (typeof KeyVaultObjectType)[keyof typeof KeyVaultObjectType];

/** `objectFormat`: only meaningful for a secret that backs a certificate. */
export const ObjectFormat = {
  /** Private key(s) then certificate(s) as PEM. */
  PEM: 'pem',
  /** The PFX as Key Vault stores it (base64 text unless `objectEncoding: base64` decodes it). */
  PFX: 'pfx',
} as const;
/** One of the values of `ObjectFormat` (`ObjectFormat.X` or its literal text). */
export type ObjectFormat = (typeof ObjectFormat)[keyof typeof ObjectFormat];

/** `objectEncoding`: how the provider decodes a secret value before writing it. */
export const ObjectEncoding = {
  UTF_8: 'utf-8',
  HEX: 'hex',
  BASE64: 'base64',
} as const;
/** One of the values of `ObjectEncoding` (`ObjectEncoding.X` or its literal text). */
export type ObjectEncoding = (typeof ObjectEncoding)[keyof typeof ObjectEncoding];

/** One Key Vault object to mount, as a construct user writes it. */
export interface KeyVaultObject {
  /** Name of the object in Key Vault (1–127 characters: letters, digits, hyphens). */
  readonly objectName: string;
  /** Which collection to read from. */
  readonly objectType: KeyVaultObjectType;
  /**
   * File name (a relative path) the content is written to.
   * @default - the objectName
   */
  readonly objectAlias?: string;
  /**
   * Version id to read.
   * @default - the latest version
   */
  readonly objectVersion?: string;
  /**
   * Number of versions to write, as `<alias>/0` (newest) `<alias>/1` ...; values of 0 or 1 mean a
   * single file.
   * @default 0
   */
  readonly objectVersionHistory?: number;
  /**
   * Output format of a certificate-backed secret.
   * @default ObjectFormat.PEM
   */
  readonly objectFormat?: ObjectFormat;
  /**
   * Decoding applied to a secret value before it is written.
   * @default ObjectEncoding.UTF_8
   */
  readonly objectEncoding?: ObjectEncoding;
  /**
   * File mode as octal text, e.g. "0400".
   * @default - the driver's default, "0644"
   */
  readonly filePermission?: string;
}

/**
 * One object as the Azure provider decodes it from the `objects` parameter: every field is the raw
 * scalar text, whitespace-trimmed ("" when absent), exactly as Go's yaml.v3 fills a string field.
 */
export interface ParsedKeyVaultObject {
  objectName: string;
  objectType: string;
  objectAlias: string;
  objectVersion: string;
  /** Go int32; 0 when absent. */
  objectVersionHistory: number;
  objectFormat: string;
  objectEncoding: string;
  filePermission: string;
}
