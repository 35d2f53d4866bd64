// Where identity-binding token requests go (azure-provider §3.3), as upstream v1.8 decides it: the AKS
// token proxy at --token-proxy-url (default the in-cluster API server address), reached with the TLS
// server name --sni-name or, without it, `a<base32hex(sha256("identity-binding" + clusterId))>.ests.aks`
// where clusterId comes from the API server certificate's `hcp-kubernetes.<id>.svc.cluster.local`.
// The proxy is trusted only through the service-account CA file when it exists at start (the cluster
// CA; re-read on every request so a rotated CA is followed), else through the process's trust store.
// Upstream computes the server name once at start and keeps a failure until restart; here it is
// computed at the first identity-binding Mount (nothing is dialled on clusters that never use it), kept
// once found, and a failure is retried after 30 s. Error texts are upstream's (azidentity's for the URL).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, PeerCertificate } from 'node:tls';

export const DEFAULT_TOKEN_PROXY_URL = 'https://kubernetes.default.svc.cluster.local';
export const SERVICE_ACCOUNT_CA_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';
/** The API server name upstream dials to read the cluster id (port: KUBERNETES_SERVICE_PORT, else 443). */
export const API_SERVER_HOST = 'kubernetes.default.svc.cluster.local';

const API_SERVER_SAN = /^hcp-kubernetes\.(.*)\.svc\.cluster\.local$/;
const DISCOVERY_TIMEOUT_MS = 10_000;
const FAILURE_RETRY_MS = 30_000;
const MAX_CA_FILE_BYTES = 1024 * 1024;

/** The proxy cannot be used at all (configuration, server name, CA): upstream's "proxy transport not available". */
export class TokenProxyUnavailableError extends Error {
  constructor(message: string) {
    super(`proxy transport not available: ${message}`);
    this.name = 'TokenProxyUnavailableError';
  }
}

/** The token proxy's TLS server name for a cluster id (upstream's formula). */
export function identityBindingServerName(clusterId: string): string {
  const digest = createHash('sha256').update(`identity-binding${clusterId}`).digest();
  return `a${base32Hex(digest)}.ests.aks`.toLowerCase();
}

/** RFC 4648 base32 with the extended-hex alphabet, unpadded. */
function base32Hex(bytes: Buffer): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(value >> bits) & 31];
    }
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
}

/** The proxy URL checked as azidentity checks AZURE_KUBERNETES_TOKEN_PROXY (same texts); the path is kept. */
export function parseTokenProxyUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (err) {
    throw new Error(
      `failed to parse custom token proxy URL ${JSON.stringify(value)}: ${(err as Error).message}`,
    );
  }
  if (url.protocol !== 'https:')
    throw new Error(
      `custom token endpoint must use https scheme, got ${JSON.stringify(url.protocol.replace(/:$/, ''))}`,
    );
  if (url.username !== '' || url.password !== '')
    throw new Error(`custom token endpoint URL ${JSON.stringify(value)} must not contain user info`);
  if (url.search !== '')
    throw new Error(`custom token endpoint URL ${JSON.stringify(value)} must not contain a query`);
  if (url.hash !== '')
    throw new Error(`custom token endpoint URL ${JSON.stringify(value)} must not contain a fragment`);
  return url;
}

/** A TLS server name given with --sni-name: a DNS name (the proxy's certificate is checked against it). */
export function checkServerName(value: string): string {
  if (
    value.length > 253 ||
    !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value)
  )
    throw new Error('must be a DNS name such as a<hash>.ests.aks (letters, digits, hyphens and dots)');
  return value.toLowerCase();
}

/** Go's wording of a failed file read (`open <path>: no such file or directory`). */
function goOpenError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
  };
  return `open ${path}: ${(code && text[code]) ?? (err as Error).message}`;
}

/** Properties of {@link TokenProxyTarget}. */
export interface TokenProxyTargetProps {
  /** --token-proxy-url; '' or absent: {@link DEFAULT_TOKEN_PROXY_URL}. */
  readonly url?: string;
  /** --sni-name; '' or absent: computed from the API server certificate. */
  readonly serverName?: string;
  /** The cluster CA file. @default SERVICE_ACCOUNT_CA_FILE */
  readonly caFile?: string;
  /** Address dialled for the cluster id (the TLS server name stays API_SERVER_HOST). @default API_SERVER_HOST */
  readonly apiServerHost?: string;
  /** Port of {@link API_SERVER_HOST} for the cluster id. @default KUBERNETES_SERVICE_PORT, else 443 */
  readonly apiServerPort?: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** The TLS settings of one request to the proxy. */
export interface TokenProxyTls {
  readonly serverName: string;
  /** The cluster CA, PEM; undefined: the process's trust store. */
  readonly ca?: string;
}

export class TokenProxyTarget {
  /** The proxy URL (checked). */
  readonly url: URL;
  private readonly caFile: string | undefined;
  private readonly serverNameFlag: string;
  private readonly discoveryCaFile: string;
  private readonly apiServerHost: string;
  private readonly apiServerPort: number;
  private readonly now: () => number;
  private discovered?: string;
  private discovery?: Promise<string>;
  private failure?: { error: TokenProxyUnavailableError; at: number };
  private lastCa?: string;

  /** Throws upstream's text for a URL it refuses (a flag error at start). */
  constructor(props: TokenProxyTargetProps = {}) {
    this.url = parseTokenProxyUrl(props.url || DEFAULT_TOKEN_PROXY_URL);
    this.serverNameFlag = props.serverName ? checkServerName(props.serverName) : '';
    this.discoveryCaFile = props.caFile ?? SERVICE_ACCOUNT_CA_FILE;
    // As upstream: the CA file pins the proxy only when it is there at start.
    this.caFile = existsSync(this.discoveryCaFile) ? this.discoveryCaFile : undefined;
    this.apiServerHost = props.apiServerHost ?? API_SERVER_HOST;
    this.apiServerPort = props.apiServerPort ?? (Number(process.env.KUBERNETES_SERVICE_PORT) || 443);
    this.now = props.now ?? Date.now;
  }

  /** The TLS settings for the next request; rejects with TokenProxyUnavailableError. */
  async tls(): Promise<TokenProxyTls> {
    const serverName = await this.serverName();
    return { serverName, ca: await this.currentCa() };
  }

  private async serverName(): Promise<string> {
    if (this.serverNameFlag) return this.serverNameFlag;
    if (this.discovered) return this.discovered;
    if (this.failure && this.now() - this.failure.at < FAILURE_RETRY_MS) throw this.failure.error;
    this.discovery ??= discoverClusterId(this.discoveryCaFile, this.apiServerHost, this.apiServerPort)
      .then(
        (clusterId) => {
          this.discovered = identityBindingServerName(clusterId);
          this.failure = undefined;
          return this.discovered;
        },
        (err: unknown) => {
          const error = new TokenProxyUnavailableError(
            `compute SNI name: extract cluster ID from API server certificate: ${(err as Error).message}`,
          );
          this.failure = { error, at: this.now() };
          throw error;
        },
      )
      .finally(() => {
        this.discovery = undefined;
      });
    return this.discovery;
  }

  /** The CA file's current contents (kept from the last read while the file is empty mid-rotation). */
  private async currentCa(): Promise<string | undefined> {
    if (this.caFile === undefined) return undefined;
    let text: string;
    try {
      text = await readBounded(this.caFile);
    } catch (err) {
      throw new TokenProxyUnavailableError(
        `read CA file ${JSON.stringify(this.caFile)}: ${goOpenError(this.caFile, err)}`,
      );
    }
    if (text.trim() === '') {
      if (this.lastCa === undefined)
        throw new TokenProxyUnavailableError(`CA file ${JSON.stringify(this.caFile)} is empty`);
      return this.lastCa;
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      throw new TokenProxyUnavailableError(
        `parse CA file ${JSON.stringify(this.caFile)}: no valid certificates found`,
      );
    this.lastCa = text;
    return text;
  }
}

async function readBounded(path: string): Promise<string> {
  const bytes = await readFile(path);
  if (bytes.length > MAX_CA_FILE_BYTES) throw new Error(`larger than ${MAX_CA_FILE_BYTES} bytes`);
  return bytes.toString('utf8');
}

/** The cluster id from the API server's serving certificate, trusting only the cluster CA (upstream's steps). */
async function discoverClusterId(caFile: string, host: string, port: number): Promise<string> {
  let ca: string;
  try {
    ca = await readBounded(caFile);
  } catch (err) {
    throw new Error(
      `read CA file ${caFile}: ${goOpenError(caFile, err)} (use --sni-name flag to skip automatic SNI detection)`,
    );
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`no valid certificates found in ${caFile}`);
  const certificate = await new Promise<PeerCertificate>((resolve, reject) => {
    const socket = connect({
      host,
      port,
      servername: API_SERVER_HOST,
      ca,
      minVersion: 'TLSv1.2',
    });
    socket.setTimeout(DISCOVERY_TIMEOUT_MS, () =>
      socket.destroy(new Error(`dial tcp ${API_SERVER_HOST}:${port}: i/o timeout`)),
    );
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.once('error', (err) => reject(new Error(`TLS connect to API server: ${err.message}`)));
  });
  if (!certificate || !certificate.raw) throw new Error('no certificates presented by API server');
  const dnsNames = (certificate.subjectaltname ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  for (const name of dnsNames) {
    const match = API_SERVER_SAN.exec(name);
    if (!match) continue;
    if (match[1] === '') throw new Error(`empty cluster ID in SAN ${JSON.stringify(name)}`);
    return match[1];
  }
  throw new Error(
    'cluster ID SAN not found in API server certificate (use --sni-name flag to provide SNI name explicitly)',
  );
}
