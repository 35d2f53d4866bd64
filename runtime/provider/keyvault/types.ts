// What the provider needs from Key Vault, independent of the SDK shapes.
import type { KeyVaultJwk } from '../content/public-key';

export type VaultObjectType = 'secret' | 'key' | 'cert';

/** A secret (GET /secrets/{name}/{version}). `kid` is set for certificate-backed secrets. */
export interface FetchedSecret {
  readonly type: 'secret';
  readonly value?: string;
  readonly id?: string;
  readonly version: string;
  readonly contentType?: string;
  readonly kid?: string;
}

/** A key (GET /keys/{name}/{version}). */
export interface FetchedKey {
  readonly type: 'key';
  readonly kid?: string;
  readonly version: string;
  readonly jwk?: KeyVaultJwk;
}

/** A certificate (GET /certificates/{name}/{version}): the leaf DER only. */
export interface FetchedCertificate {
  readonly type: 'cert';
  readonly id?: string;
  readonly version: string;
  readonly cer?: Uint8Array;
}

export type FetchedObject = FetchedSecret | FetchedKey | FetchedCertificate;

/** One entry of a versions listing. */
export interface ObjectVersionInfo {
  readonly version: string;
  readonly createdOn?: Date;
  readonly enabled?: boolean;
}
