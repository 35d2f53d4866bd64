// A throwaway certificate authority for the HTTPS test doubles. Nothing is added to any trust store:
// Node clients trust it through an explicit `ca` (agent) or NODE_EXTRA_CA_CERTS in spawned children,
// Go children through SSL_CERT_FILE.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, AgentOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IssuedCertificate, issueCertificate } from './x509';

/** Properties of {@link TestCa.create}. */
export interface TestCaProps {
  /**
   * Directory the PEM files are written to; it is removed by {@link TestCa.dispose} only when
   * the CA created it.
   * @default a fresh directory under the OS temp dir
   */
  readonly dir?: string;
  /**
   * Common name of the CA certificate.
   * @default 'aks-secrets-store test CA'
   */
  readonly commonName?: string;
}

/** Properties of {@link TestCa.issueServerCertificate}. */
export interface ServerCertificateProps {
  /** DNS names the certificate is valid for (wildcards such as `*.vault.fake.test` allowed). */
  readonly dnsNames: readonly string[];
  /**
   * IP addresses the certificate is valid for.
   * @default ['127.0.0.1']
   */
  readonly ipAddresses?: readonly string[];
}

/** A server certificate issued by the test CA, in memory and on disk. */
export interface ServerCertificate {
  /** Certificate PEM. */
  readonly certPem: string;
  /** Private key PEM (PKCS#8). */
  readonly keyPem: string;
  /** Path of the certificate PEM file. */
  readonly certPath: string;
  /** Path of the key PEM file (mode 0600). */
  readonly keyPath: string;
}

let serial = 0;

/** A test CA whose certificate is written to `caCertPath`. */
export class TestCa {
  /** Creates the CA and writes its certificate to disk. */
  public static create(props: TestCaProps = {}): TestCa {
    const ownsDir = props.dir === undefined;
    const dir = props.dir ?? mkdtempSync(join(tmpdir(), 'aks-ss-ca-'));
    const ca = issueCertificate({ commonName: props.commonName ?? 'aks-secrets-store test CA', isCa: true });
    const caCertPath = join(dir, 'ca.pem');
    writeFileSync(caCertPath, ca.certPem, { mode: 0o644 });
    return new TestCa(dir, ownsDir, ca, caCertPath);
  }

  /**
   * Writes the CA's private key next to its certificate (mode 0600), so another process can
   * {@link TestCa.load} the same CA (the rig's node bakes the certificate into its images once, and each
   * test file's fakes then issue their server certificates from it).
   */
  public saveKey(): string {
    const keyPath = join(this.dir, 'ca-key.pem');
    writeFileSync(keyPath, this.ca.keyPem, { mode: 0o600 });
    return keyPath;
  }

  /** The CA saved in `caDir` by {@link TestCa.saveKey}; its files are left in place by dispose. */
  public static load(caDir: string): TestCa {
    const caCertPath = join(caDir, 'ca.pem');
    const certPem = readFileSync(caCertPath, 'utf8');
    const ca: IssuedCertificate = {
      certPem,
      certDer: new X509Certificate(certPem).raw,
      keyPem: readFileSync(join(caDir, 'ca-key.pem'), 'utf8'),
      commonName: new X509Certificate(certPem).subject.replace(/^CN=/, ''),
    };
    return new TestCa(caDir, false, ca, caCertPath);
  }

  private constructor(
    /** Directory holding the PEM files. */
    public readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly ca: IssuedCertificate,
    /** Path of the CA certificate PEM (for SSL_CERT_FILE / NODE_EXTRA_CA_CERTS). */
    public readonly caCertPath: string,
  ) {}

  /** The CA certificate, PEM. */
  public get caCertPem(): string {
    return this.ca.certPem;
  }

  /** Issues a server certificate for the given names and writes it next to the CA certificate. */
  public issueServerCertificate(props: ServerCertificateProps): ServerCertificate {
    if (props.dnsNames.length === 0 && (props.ipAddresses ?? []).length === 0) {
      throw new Error('issueServerCertificate: dnsNames or ipAddresses must name at least one host');
    }
    const leaf = issueCertificate({
      commonName: props.dnsNames[0] ?? props.ipAddresses?.[0] ?? 'localhost',
      issuer: this.ca,
      dnsNames: props.dnsNames,
      ipAddresses: props.ipAddresses ?? ['127.0.0.1'],
    });
    const base = join(this.dir, `server-${++serial}`);
    writeFileSync(`${base}.pem`, leaf.certPem, { mode: 0o644 });
    writeFileSync(`${base}-key.pem`, leaf.keyPem, { mode: 0o600 });
    return {
      certPem: leaf.certPem,
      keyPem: leaf.keyPem,
      certPath: `${base}.pem`,
      keyPath: `${base}-key.pem`,
    };
  }

  /**
   * An HTTPS agent of this process that trusts only the test CA. `lookup` may map host names to
   * a loopback address, so real vault host names work without touching /etc/hosts.
   */
  public agent(options: AgentOptions = {}): Agent {
    return new Agent({ keepAlive: true, ...options, ca: this.caCertPem });
  }

  /** Environment for spawned children (Node and Go) so they trust the test CA. */
  public childEnv(): Record<string, string> {
    return { NODE_EXTRA_CA_CERTS: this.caCertPath, SSL_CERT_FILE: this.caCertPath };
  }

  /** Removes the files the CA created. */
  public dispose(): void {
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
