// Certificates for the rig: one CA that signs the apiserver's serving certificate and the client
// certificates, plus the service-account signing key pair. RSA keys come from node:crypto (fast);
// node-forge builds and signs the X.509 certificates.
import * as crypto from 'node:crypto';
import forge from 'node-forge';

export interface KeyAndCert {
  readonly keyPem: string;
  readonly certPem: string;
}

export interface CertificateProps {
  /** Subject common name (for client certificates: the Kubernetes user name). */
  readonly commonName: string;
  /** Subject organizations (for client certificates: the Kubernetes groups). @default [] */
  readonly organizations?: readonly string[];
  /** DNS subject alternative names. @default [] */
  readonly dnsNames?: readonly string[];
  /** IP subject alternative names. @default [] */
  readonly ipAddresses?: readonly string[];
  /** Extended key usage. @default 'server' */
  readonly usage?: 'server' | 'client';
  /** Validity in days. @default 2 */
  readonly validityDays?: number;
}

function rsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function newCertificate(publicKeyPem: string, validityDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // Positive random serial (leading byte < 0x80).
  cert.serialNumber = '01' + crypto.randomBytes(15).toString('hex');
  // Back-dated a little so a clock skew between spawn and use does not matter.
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + validityDays * 24 * 60 * 60 * 1000);
  return cert;
}

function sign(cert: forge.pki.Certificate, signerKeyPem: string): string {
  cert.sign(forge.pki.privateKeyFromPem(signerKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A self-signed CA. */
export function createCertificateAuthority(commonName: string): KeyAndCert {
  const { privateKeyPem, publicKeyPem } = rsaKeyPair();
  const cert = newCertificate(publicKeyPem, 7);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { keyPem: privateKeyPem, certPem: sign(cert, privateKeyPem) };
}

/** A leaf certificate signed by the CA. */
export function createSignedCertificate(ca: KeyAndCert, props: CertificateProps): KeyAndCert {
  const { privateKeyPem, publicKeyPem } = rsaKeyPair();
  const cert = newCertificate(publicKeyPem, props.validityDays ?? 2);
  cert.setSubject([
    { name: 'commonName', value: props.commonName },
    ...(props.organizations ?? []).map((org) => ({ name: 'organizationName', value: org })),
  ]);
  cert.setIssuer(forge.pki.certificateFromPem(ca.certPem).subject.attributes);
  const altNames = [
    ...(props.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(props.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  const usage = props.usage ?? 'server';
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  return { keyPem: privateKeyPem, certPem: sign(cert, ca.keyPem) };
}

/** The key pair kube-apiserver signs service-account tokens with (and verifies them by). */
export function createServiceAccountKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  return rsaKeyPair();
}
