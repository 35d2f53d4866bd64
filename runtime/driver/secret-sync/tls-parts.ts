// `kubernetes.io/tls` Secrets: tls.crt and tls.key cut out of a mounted PEM bundle or PFX, as upstream's
// secretutil does (reference/upstream-driver.md §5), so a synced TLS Secret works with ingress controllers.
import * as crypto from 'crypto';
import type * as Forge from 'node-forge';

/**
 * node-forge, loaded on the first PFX only: most drivers never cut a TLS Secret out of a PFX, and loading
 * it costs ~9 MiB RSS and ~0.3 s at start on Node 24 (bench/driver).
 */
function nodeForge(): typeof Forge {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; `import` would load it at start
  return require('node-forge') as typeof Forge;
}

/** The two keys a `kubernetes.io/tls` Secret may carry. */
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_PRIVATE_KEY_KEY = 'tls.key';

interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    // Header lines (Proc-Type etc.) end with a blank line; the base64 body follows.
    const body = match[2].includes(':') ? match[2].replace(/^[\s\S]*?\r?\n\r?\n/, '') : match[2];
    blocks.push({ type: match[1], der: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  return blocks;
}

function pem(type: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/**
 * The certificate part: every CERTIFICATE block of a PEM file in order; a file without one is read as a
 * password-less PFX (base64 text as the Azure provider writes it with `objectFormat: pfx`, or raw DER).
 */
export function tlsCertificate(content: Buffer, objectName: string): Buffer {
  const certs = pemBlocks(content.toString('latin1')).filter((b) => b.type === 'CERTIFICATE');
  if (certs.length > 0) return Buffer.from(certs.map((c) => pem('CERTIFICATE', c.der)).join(''));
  const pfx = decodePfx(content, objectName);
  if (pfx.certificates.length === 0) throw new Error(`object ${objectName}: the PFX holds no certificate`);
  return Buffer.from(pfx.certificates.map((der) => pem('CERTIFICATE', der)).join(''));
}

/**
 * The key part: the last non-CERTIFICATE PEM block (or the PFX key), normalised as upstream: RSA →
 * PKCS#1 `RSA PRIVATE KEY`, EC → SEC1 `EC PRIVATE KEY`; any other algorithm is an error.
 */
export function tlsPrivateKey(content: Buffer, objectName: string): Buffer {
  const keys = pemBlocks(content.toString('latin1')).filter((b) => b.type !== 'CERTIFICATE');
  let der: Buffer;
  let format: 'pkcs1' | 'pkcs8' | 'sec1';
  if (keys.length > 0) {
    const last = keys[keys.length - 1];
    der = last.der;
    format = last.type === 'RSA PRIVATE KEY' ? 'pkcs1' : last.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
  } else {
    const pfx = decodePfx(content, objectName);
    if (!pfx.privateKey)
      throw new Error(`object ${objectName}: no private key found in the PEM or PFX content`);
    der = pfx.privateKey;
    format = 'pkcs8';
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(
      format === 'pkcs1'
        ? { key: der, format: 'der', type: 'pkcs1' }
        : format === 'sec1'
          ? { key: der, format: 'der', type: 'sec1' }
          : { key: der, format: 'der', type: 'pkcs8' },
    );
  } catch {
    throw new Error(
      `object ${objectName}: the private key could not be parsed (expected PKCS#1, PKCS#8 or SEC1)`,
    );
  }
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return Buffer.from(key.export({ format: 'pem', type: 'pkcs1' }) as string);
    case 'ec':
      return Buffer.from(key.export({ format: 'pem', type: 'sec1' }) as string);
    default:
      throw new Error(
        `object ${objectName}: private key type ${key.asymmetricKeyType ?? 'unknown'} is not supported for kubernetes.io/tls (RSA or ECDSA only)`,
      );
  }
}

interface DecodedPfx {
  /** Leaf first (the certificate whose localKeyId matches the key), then the others in file order. */
  readonly certificates: Buffer[];
  /** PKCS#8 DER of the private key. */
  readonly privateKey?: Buffer;
}

function decodePfx(content: Buffer, objectName: string): DecodedPfx {
  const text = content.toString('latin1').trim();
  const der = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : content;
  const forge = nodeForge();
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(
      forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))),
      '',
    );
  } catch {
    throw new Error(
      `object ${objectName}: content is neither PEM with a CERTIFICATE block nor a password-less PFX (base64 or binary)`,
    );
  }
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ??
      []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
  ];
  const keyBag = keyBags[0];
  let privateKey: Buffer | undefined;
  if (keyBag) {
    // forge parses RSA keys only; for other algorithms it leaves the PrivateKeyInfo ASN.1 in `asn1`.
    const info = keyBag.key
      ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key))
      : keyBag.asn1;
    privateKey = Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary');
  }
  const keyId = keyBag?.attributes?.localKeyId?.[0];
  const certs = certBags
    .filter((bag) => bag.cert || bag.asn1)
    .map((bag) => ({
      der: Buffer.from(
        forge.asn1.toDer(bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1).getBytes(),
        'binary',
      ),
      isLeaf: keyId !== undefined && bag.attributes?.localKeyId?.[0] === keyId,
    }));
  const ordered = [...certs.filter((c) => c.isLeaf), ...certs.filter((c) => !c.isLeaf)];
  return { certificates: ordered.map((c) => c.der), privateKey };
}
