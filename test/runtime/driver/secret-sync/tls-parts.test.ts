// TLS extraction for kubernetes.io/tls synced Secrets: the certificate and key parts of PEM bundles and
// password-less PFX files, with the key normalised as upstream (RSA → PKCS#1, EC → SEC1, others refused).
import * as crypto from 'crypto';
import * as forge from 'node-forge';
import { tlsCertificate, tlsPrivateKey } from '../../../../runtime/driver/secret-sync/tls-parts';

function selfSignedRsa(commonName: string): {
  certPem: string;
  keyPkcs1Pem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
} {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.UTC(2026, 0, 1));
  cert.validity.notAfter = new Date(Date.UTC(2036, 0, 1));
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer([{ name: 'commonName', value: commonName }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'),
    keyPkcs1Pem: forge.pki.privateKeyToPem(keys.privateKey).replace(/\r\n/g, '\n'),
    cert,
    key: keys.privateKey,
  };
}

const leaf = selfSignedRsa('leaf.example');
const ca = selfSignedRsa('ca.example');

function pfxBase64(withChain: boolean): string {
  const chain = withChain ? [leaf.cert, ca.cert] : [leaf.cert];
  const asn1 = forge.pkcs12.toPkcs12Asn1(leaf.key, chain, '', { algorithm: '3des' });
  return forge.util.encode64(forge.asn1.toDer(asn1).getBytes());
}

function publicKeyOf(pem: string): string {
  return crypto
    .createPublicKey(crypto.createPrivateKey(pem))
    .export({ type: 'spki', format: 'pem' }) as string;
}

describe('tls.crt', () => {
  it('is every CERTIFICATE block of a PEM bundle in order, without the key', () => {
    const bundle = Buffer.from(`${leaf.keyPkcs1Pem}${leaf.certPem}${ca.certPem}`);
    const crt = tlsCertificate(bundle, 'bundle').toString();
    const certs = crt.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(certs).toHaveLength(2);
    expect(new crypto.X509Certificate(crt.split(/(?<=-----END CERTIFICATE-----\n)/)[0]).subject).toBe(
      'CN=leaf.example',
    );
    expect(crt).not.toContain('PRIVATE KEY');
  });

  it('comes from a password-less PFX (base64 text, as the Azure provider writes objectFormat pfx), leaf first', () => {
    const crt = tlsCertificate(Buffer.from(pfxBase64(true)), 'pfx').toString();
    const blocks = crt.split(/(?<=-----END CERTIFICATE-----\n)/).filter((b) => b.trim());
    expect(blocks.map((b) => new crypto.X509Certificate(b).subject)).toEqual([
      'CN=leaf.example',
      'CN=ca.example',
    ]);
  });

  it('comes from a binary PFX too', () => {
    const der = Buffer.from(pfxBase64(false), 'base64');
    expect(new crypto.X509Certificate(tlsCertificate(der, 'pfx')).subject).toBe('CN=leaf.example');
  });

  it('names the object when the content is neither PEM nor PFX, without echoing the content', () => {
    const content = Buffer.from('not-a-cert-super-secret-value');
    expect(() => tlsCertificate(content, 'mycert')).toThrow(/object mycert: content is neither PEM/);
    try {
      tlsCertificate(content, 'mycert');
    } catch (err) {
      expect((err as Error).message).not.toContain('super-secret');
    }
  });
});

describe('tls.key', () => {
  it('re-encodes a PKCS#8 RSA key as PKCS#1 RSA PRIVATE KEY (upstream normalisation)', () => {
    const pkcs8 = crypto
      .createPrivateKey(leaf.keyPkcs1Pem)
      .export({ type: 'pkcs8', format: 'pem' }) as string;
    const key = tlsPrivateKey(Buffer.from(`${leaf.certPem}${pkcs8}`), 'bundle').toString();
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(publicKeyOf(key)).toBe(publicKeyOf(leaf.keyPkcs1Pem));
  });

  it('keeps a PKCS#1 key as PKCS#1 and takes the last non-certificate block', () => {
    const other = selfSignedRsa('other');
    const key = tlsPrivateKey(
      Buffer.from(`${other.keyPkcs1Pem}${leaf.certPem}${leaf.keyPkcs1Pem}`),
      'bundle',
    ).toString();
    expect(publicKeyOf(key)).toBe(publicKeyOf(leaf.keyPkcs1Pem));
  });

  it('re-encodes a PKCS#8 EC key as SEC1 EC PRIVATE KEY', () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const key = tlsPrivateKey(Buffer.from(`${leaf.certPem}${pkcs8}`), 'ec').toString();
    expect(key).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(publicKeyOf(key)).toBe(publicKeyOf(pkcs8));
  });

  it('refuses an Ed25519 key with a message naming the object and the supported types', () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => tlsPrivateKey(Buffer.from(`${leaf.certPem}${pkcs8}`), 'edkey')).toThrow(
      'object edkey: private key type ed25519 is not supported for kubernetes.io/tls (RSA or ECDSA only)',
    );
  });

  it('comes from a password-less PFX as PKCS#1', () => {
    const key = tlsPrivateKey(Buffer.from(pfxBase64(true)), 'pfx').toString();
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(publicKeyOf(key)).toBe(publicKeyOf(leaf.keyPkcs1Pem));
  });
});
