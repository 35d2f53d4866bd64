// `objectType: key`: the public half of a Key Vault key as a PKIX `PUBLIC KEY` PEM, built from the
// JWK (RSA / RSA-HSM from n, e; EC / EC-HSM on P-256, P-384, P-521 from x, y).
import { createPublicKey, JsonWebKey as NodeJwk } from 'node:crypto';
import { encodePem } from './pem';

/** The JWK fields Key Vault returns (byte fields already decoded). */
export interface KeyVaultJwk {
  readonly kty?: string;
  readonly crv?: string;
  readonly n?: Uint8Array;
  readonly e?: Uint8Array;
  readonly x?: Uint8Array;
  readonly y?: Uint8Array;
}

const CURVE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

function b64url(bytes: Uint8Array | undefined, size?: number): string {
  let buf = Buffer.from(bytes ?? new Uint8Array());
  // JWK coordinates must be exactly the curve size; Go's big.Int path accepts shorter input.
  if (size !== undefined && buf.length < size) buf = Buffer.concat([Buffer.alloc(size - buf.length), buf]);
  return buf.toString('base64url');
}

function stripLeadingZeros(bytes: Uint8Array | undefined): Uint8Array {
  const buf = Buffer.from(bytes ?? new Uint8Array());
  let i = 0;
  while (i < buf.length - 1 && buf[i] === 0) i++;
  return buf.subarray(i);
}

export function publicKeyPem(jwk: KeyVaultJwk): string {
  let nodeJwk: NodeJwk;
  switch (jwk.kty) {
    case 'RSA':
    case 'RSA-HSM':
      nodeJwk = { kty: 'RSA', n: b64url(stripLeadingZeros(jwk.n)), e: b64url(stripLeadingZeros(jwk.e)) };
      break;
    case 'EC':
    case 'EC-HSM': {
      const crv = jwk.crv ?? '';
      const size = CURVE_BYTES[crv];
      if (size === undefined) throw new Error(`curve ${crv} is not supported`);
      nodeJwk = { kty: 'EC', crv, x: b64url(jwk.x, size), y: b64url(jwk.y, size) };
      break;
    }
    default:
      throw new Error(`failed to get key. key type '${jwk.kty ?? ''}' currently not supported`);
  }
  const der = createPublicKey({ key: nodeJwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  return encodePem('PUBLIC KEY', der);
}
