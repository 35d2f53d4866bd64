// PKCS#12 (PFX) → PEM for certificate-backed secrets stored as `application/x-pkcs12`: the
// upstream output is every private key re-encoded as PKCS#8 `PRIVATE KEY` first, then every
// certificate (chain-ordered when --construct-pem-chain is on). node-forge decrypts the PFX (node
// has no PKCS#12 parser); node:crypto re-encodes the keys.
import { createPrivateKey } from 'node:crypto';
import type * as Forge from 'node-forge';
import { orderCertificateChain } from './chain';
import { decodeGoBase64 } from './encoding';
import { nodeForge } from './node-forge';
import { encodePem } from './pem';

/** Keys (PKCS#8 DER) and certificates (DER) of a PFX, in bag order. */
export interface Pkcs12Contents {
  readonly privateKeys: Buffer[];
  readonly certificates: Buffer[];
}

/**
 * Reads a password-less PFX (as Key Vault serves it). Keys and certificates are taken as the exact
 * DER inside the bags: forge's typed parsers (RSA only, and re-encoding) are switched off for the
 * duration of this synchronous call so every bag keeps its raw ASN.1.
 */
export function readPkcs12(pfx: Buffer): Pkcs12Contents {
  const forge = nodeForge();
  const pki = forge.pki as unknown as Record<string, unknown>;
  const originalKeyParser = pki.privateKeyFromAsn1;
  const originalCertParser = pki.certificateFromAsn1;
  const keepRaw = () => {
    throw new Error('raw bag wanted');
  };
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    pki.privateKeyFromAsn1 = keepRaw;
    pki.certificateFromAsn1 = keepRaw;
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(pfx.toString('binary')), false);
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, '');
  } catch (err) {
    throw new Error(`pkcs12: ${(err as Error).message}`);
  } finally {
    pki.privateKeyFromAsn1 = originalKeyParser;
    pki.certificateFromAsn1 = originalCertParser;
  }
  const privateKeys: Buffer[] = [];
  const certificates: Buffer[] = [];
  for (const safeContents of p12.safeContents) {
    for (const bag of safeContents.safeBags) {
      const raw = (bag as unknown as { asn1?: Forge.asn1.Asn1 }).asn1;
      if (!raw) continue;
      const der = Buffer.from(forge.asn1.toDer(raw).getBytes(), 'binary');
      if (bag.type === forge.pki.oids.certBag) certificates.push(der);
      else if (bag.type === forge.pki.oids.keyBag || bag.type === forge.pki.oids.pkcs8ShroudedKeyBag)
        privateKeys.push(der);
    }
  }
  return { privateKeys, certificates };
}

/** Options of the PFX → PEM conversion. */
export interface PfxToPemProps {
  /** Order the certificates leaf → intermediates → root (`--construct-pem-chain`). */
  readonly constructPemChain: boolean;
  /** Called when the chain is incomplete and the original order is kept. @default no-op */
  readonly onIncompleteChain?: () => void;
}

/** The upstream `decodePKCS12`: base64 PFX text → keys (PKCS#8 PEM) followed by certificates (PEM). */
export function pfxToPem(base64Pfx: string, props: PfxToPemProps): string {
  const { privateKeys, certificates } = readPkcs12(decodeGoBase64(base64Pfx));
  let keyPem = '';
  for (const der of privateKeys) {
    let pkcs8: Buffer;
    try {
      pkcs8 = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
        type: 'pkcs8',
        format: 'der',
      });
    } catch {
      throw new Error('failed to parse key for type pkcs1, pkcs8 or ec');
    }
    keyPem += encodePem('PRIVATE KEY', pkcs8);
  }
  let ordered = certificates;
  if (props.constructPemChain && certificates.length > 0) {
    const chain = orderCertificateChain(certificates);
    if (!chain.complete) props.onIncompleteChain?.();
    ordered = chain.certificates;
  }
  return keyPem + ordered.map((der) => encodePem('CERTIFICATE', der)).join('');
}
