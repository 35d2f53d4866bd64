// X.509 building blocks for the test doubles: RSA keys from node:crypto (fast, native), certificates
// signed with node-forge (node:crypto cannot create certificates), PEM and password-less PKCS#12
// output shaped like what Key Vault stores for certificate-backed secrets.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate together with the key it certifies. */
export interface IssuedCertificate {
  /** The certificate, PEM (`CERTIFICATE`). */
  readonly certPem: string;
  /** The certificate, DER bytes. */
  readonly certDer: Buffer;
  /** The private key, PKCS#8 PEM (`PRIVATE KEY`). */
  readonly keyPem: string;
  /** The subject common name. */
  readonly commonName: string;
}

/** Properties of {@link issueCertificate}. */
export interface IssueCertificateProps {
  /** Subject common name. */
  readonly commonName: string;
  /**
   * The issuer; the certificate is self-signed when absent.
   * @default self-signed
   */
  readonly issuer?: IssuedCertificate;
  /**
   * Whether the certificate may sign others (basicConstraints cA, keyCertSign).
   * @default false
   */
  readonly isCa?: boolean;
  /**
   * DNS subjectAltNames.
   * @default none
   */
  readonly dnsNames?: readonly string[];
  /**
   * IP subjectAltNames.
   * @default none
   */
  readonly ipAddresses?: readonly string[];
  /**
   * Whether to write the subjectKeyIdentifier and authorityKeyIdentifier extensions, which the
   * provider's chain construction relies on. Turning this off makes an "incomplete" chain.
   * @default true
   */
  readonly keyIdentifiers?: boolean;
  /**
   * Validity in days, starting one hour ago.
   * @default 30
   */
  readonly validDays?: number;
  /**
   * RSA modulus length.
   * @default 2048
   */
  readonly rsaBits?: number;
}

/** Issues an RSA certificate signed by `issuer` (or self-signed). */
export function issueCertificate(props: IssueCertificateProps): IssuedCertificate {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: props.rsaBits ?? 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);

  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive serial: a leading 0x00..0x7f byte keeps the DER INTEGER non-negative.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3600_000);
  cert.validity.notAfter = new Date(now + (props.validDays ?? 30) * 86400_000);
  cert.setSubject([{ name: 'commonName', value: props.commonName }]);

  const issuerCert = props.issuer ? forge.pki.certificateFromPem(props.issuer.certPem) : undefined;
  const signingKey = props.issuer
    ? (forge.pki.privateKeyFromPem(props.issuer.keyPem) as forge.pki.rsa.PrivateKey)
    : forgeKey;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : cert.subject.attributes);

  const extensions: object[] = [
    { name: 'basicConstraints', cA: props.isCa ?? false, critical: true },
    props.isCa
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ];
  if (!props.isCa) extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
  const altNames = [
    ...(props.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(props.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  if (props.keyIdentifiers ?? true) {
    extensions.push({ name: 'subjectKeyIdentifier' });
    if (issuerCert) {
      const issuerSki = issuerCert.generateSubjectKeyIdentifier().getBytes();
      extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerSki });
    } else {
      // Self-signed: AKI == SKI, which is what makes a root a cycle for upstream's chain walk.
      extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: true });
    }
  }
  cert.setExtensions(extensions);
  cert.sign(signingKey, forge.md.sha256.create());

  const certPem = forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
  const certDer = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { certPem, certDer, keyPem, commonName: props.commonName };
}

/** A root → intermediates → leaf chain. */
export interface CertificateChain {
  readonly root: IssuedCertificate;
  readonly intermediates: readonly IssuedCertificate[];
  readonly leaf: IssuedCertificate;
}

/** Properties of {@link buildChain}. */
export interface BuildChainProps {
  /** Leaf common name (also its DNS name). */
  readonly leafName: string;
  /**
   * Number of intermediate CAs between root and leaf.
   * @default 1
   */
  readonly intermediates?: number;
  /**
   * Write SKI/AKI extensions (off: the provider cannot order the chain and keeps the stored order).
   * @default true
   */
  readonly keyIdentifiers?: boolean;
}

/** Builds a certificate chain root → intermediates → leaf. */
export function buildChain(props: BuildChainProps): CertificateChain {
  const keyIdentifiers = props.keyIdentifiers ?? true;
  const root = issueCertificate({ commonName: `${props.leafName} root`, isCa: true, keyIdentifiers });
  const intermediates: IssuedCertificate[] = [];
  let issuer = root;
  for (let i = 0; i < (props.intermediates ?? 1); i++) {
    issuer = issueCertificate({
      commonName: `${props.leafName} intermediate ${i + 1}`,
      isCa: true,
      issuer,
      keyIdentifiers,
    });
    intermediates.push(issuer);
  }
  const leaf = issueCertificate({
    commonName: props.leafName,
    dnsNames: [props.leafName],
    issuer,
    keyIdentifiers,
  });
  return { root, intermediates, leaf };
}

/** The chain's certificates in the given order of roles. */
export function chainCertificates(
  chain: CertificateChain,
  order: 'leaf-first' | 'root-first' | 'shuffled',
): IssuedCertificate[] {
  const leafFirst = [chain.leaf, ...[...chain.intermediates].reverse(), chain.root];
  if (order === 'leaf-first') return leafFirst;
  if (order === 'root-first') return [...leafFirst].reverse();
  // Rotated by one (intermediates, root, leaf): neither leaf-first nor root-first, so the provider's
  // AKI/SKI ordering has real work to do.
  return [...leafFirst.slice(1), leafFirst[0]];
}

/** PEM as Key Vault stores an `application/x-pem-file` certificate-backed secret: key, then certificates. */
export function toPemBundle(key: IssuedCertificate, certs: readonly IssuedCertificate[]): string {
  return key.keyPem + certs.map((c) => c.certPem).join('');
}

/**
 * Base64 of a password-less PKCS#12 as Key Vault serves an `application/x-pkcs12` certificate-backed
 * secret: legacy 3DES + SHA-1 MAC (what Go's x/crypto/pkcs12 reads), certificates in the given order.
 */
export function toPfxBase64(key: IssuedCertificate, certs: readonly IssuedCertificate[]): string {
  const forgeKey = forge.pki.privateKeyFromPem(key.keyPem);
  const forgeCerts = certs.map((c) => forge.pki.certificateFromPem(c.certPem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(forgeKey, forgeCerts, '', {
    algorithm: '3des',
    useMac: true,
    generateLocalKeyId: true,
  });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary').toString('base64');
}
