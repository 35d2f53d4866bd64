// A Key Vault data plane (REST API 7.x shapes) over real HTTPS, for what lowkey-vault cannot do:
// certificate chains with intermediates in any order, disabled versions, paging, faults (429 with
// Retry-After, 5xx, stalls), injected latency and request/token counters. Several vaults share one
// server and are told apart by the Host header, as on Azure (`<vault>.<dnsSuffix>`).
import { createPublicKey, createHash, JsonWebKey, KeyObject, randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { IssuedCertificate, toPemBundle, toPfxBase64 } from './x509';
import { stallRequest } from './stall';

/** Object collections of a vault, as named in the REST paths. */
export type VaultCollection = 'secrets' | 'keys' | 'certificates';

/** Properties of {@link FakeKeyVault.start}. */
export interface FakeKeyVaultProps {
  /** TLS certificate PEM valid for the vault host names (see TestCa.issueServerCertificate). */
  readonly certPem: string;
  /** TLS private key PEM. */
  readonly keyPem: string;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Port to listen on (443 gives port-less URLs like Azure's; needs root).
   * @default 0 (an ephemeral port)
   */
  readonly port?: number;
  /**
   * DNS suffixes vault hosts end with: Host `kv1.vault.fake.test` is vault `kv1` for suffix
   * `vault.fake.test`.
   * @default ['vault.azure.net']
   */
  readonly dnsSuffixes?: readonly string[];
  /**
   * Vault served when the Host header matches no suffix (e.g. a request to an IP address).
   * @default none (404 VaultNotFound)
   */
  readonly defaultVault?: string;
  /** Tenant named in the 401 challenge; Azure SDKs request their token for this tenant. */
  readonly tenantId: string;
  /**
   * Authority host named in the 401 challenge (`authorization="<authority>/<tenant>"`).
   * @default 'https://login.microsoftonline.com'
   */
  readonly authority?: string;
  /**
   * `resource` named in the 401 challenge; SDKs request scope `<resource>/.default` and check that
   * the vault host ends with `.<resource host>`.
   * @default `https://<first dnsSuffix>`
   */
  readonly resource?: string;
  /**
   * Decides whether a bearer token is accepted; a rejected token gets the 401 challenge again.
   * @default any non-empty token
   */
  readonly acceptToken?: (token: string) => boolean;
  /**
   * Delay added before every response, in ms.
   * @default 0
   */
  readonly latencyMs?: number;
  /**
   * How long a stalled request is held before its socket is destroyed, in ms.
   * @default 30000
   */
  readonly stallMs?: number;
}

/** Options when storing a version. */
export interface StoreOptions {
  /**
   * Whether the version is enabled (disabled versions answer 403 and are skipped by history).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Creation time.
   * @default now, strictly after the previous version of the same object
   */
  readonly created?: Date;
  /**
   * Tags.
   * @default none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Options of {@link FakeKeyVault.setSecret}. */
export interface SecretOptions extends StoreOptions {
  /**
   * Content type.
   * @default none
   */
  readonly contentType?: string;
}

/** Options of {@link FakeKeyVault.importCertificate}. */
export interface CertificateImportOptions extends StoreOptions {
  /** The certificate whose key is stored; it is the leaf served by `/certificates`. */
  readonly leaf: IssuedCertificate;
  /**
   * The certificates of the backing secret, in stored order (leaf included).
   * @default [leaf]
   */
  readonly chain?: readonly IssuedCertificate[];
  /** How the backing secret is stored: `application/x-pem-file` or `application/x-pkcs12`. */
  readonly format: 'pem' | 'pfx';
}

/** A fault answered instead of the normal response. */
export interface FaultRule {
  /**
   * What to answer: an HTTP status (429, 500, 503, ...; 403 is Key Vault's ForbiddenByRbac answer to an
   * identity without a role) or `'stall'` (never answer; the socket is destroyed after `stallMs`).
   */
  readonly kind: number | 'stall';
  /** How many matching requests get the fault (then the rule is used up). */
  readonly count: number;
  /**
   * Retry-After header value in seconds (429/503).
   * @default none
   */
  readonly retryAfterSeconds?: number;
  /**
   * Only requests whose `<vault><path>` (e.g. `kv1/secrets/s1/`) matches.
   * @default every authorized request
   */
  readonly match?: RegExp;
}

/** Counters of what the fake has seen. */
export interface FakeKeyVaultStats {
  /** Authorized data-plane requests (each is a "Key Vault GET"), faults included. */
  readonly authorizedRequests: number;
  /** 401 challenges sent. */
  readonly challenges: number;
  /** Faults answered. */
  readonly faults: number;
  /** Authorized requests per `<vault><path>` (lower-case, no query). */
  readonly byPath: Readonly<Record<string, number>>;
  /** Distinct bearer tokens seen. */
  readonly distinctTokens: number;
  /** Highest number of requests in flight at once. */
  readonly maxInFlight: number;
  /** Requests in flight now (a stalled request stays until its client gives up or stallMs passes). */
  readonly inFlight: number;
  /** TLS connections accepted since start or the last reset (each one a full handshake). */
  readonly tlsConnections: number;
  /** TLS connections open now (a client's kept-alive pool shows here until it closes it). */
  readonly openConnections: number;
}

interface StoredVersion {
  readonly version: string;
  enabled: boolean;
  readonly created: number;
  readonly tags?: Readonly<Record<string, string>>;
  /** Collection-specific fields. */
  readonly data: SecretData | KeyData | CertificateData;
}
interface SecretData {
  readonly value: string;
  readonly contentType?: string;
  readonly managed?: boolean;
}
interface KeyData {
  readonly jwk: JsonWebKey;
  readonly managed?: boolean;
}
interface CertificateData {
  readonly der: Buffer;
}
interface StoredObject {
  readonly name: string;
  readonly versions: StoredVersion[];
}
type Vault = Record<VaultCollection, Map<string, StoredObject>>;

const MAX_VERSIONS_PER_OBJECT = 500; // Key Vault's own backup limit; keeps the fake bounded.
const MAX_TRACKED_PATHS = 10_000;
const MAX_TRACKED_TOKENS = 10_000;
const PAGE_SIZE_MAX = 25; // Key Vault's maximum `maxresults`.
const NOT_FOUND: Record<VaultCollection, [string, string]> = {
  secrets: ['SecretNotFound', 'secret'],
  keys: ['KeyNotFound', 'key'],
  certificates: ['CertificateNotFound', 'certificate'],
};

/** The fake Key Vault server. */
export class FakeKeyVault {
  /** Starts the server; resolves once it listens. */
  public static async start(props: FakeKeyVaultProps): Promise<FakeKeyVault> {
    const vault = new FakeKeyVault(props);
    await new Promise<void>((resolve, reject) => {
      vault.server.once('error', reject);
      vault.server.listen(props.port ?? 0, props.host ?? '127.0.0.1', () => resolve());
    });
    return vault;
  }

  /** Delay added before every response, in ms (may be changed between requests). */
  public latencyMs: number;

  private readonly server: Server;
  private readonly vaults = new Map<string, Vault>();
  private readonly faults: { rule: FaultRule; left: number }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly stallTimers = new Set<NodeJS.Timeout>();
  private readonly dnsSuffixes: readonly string[];
  private readonly resource: string;
  private lastCreated = 0;
  private counters = { authorizedRequests: 0, challenges: 0, faults: 0, maxInFlight: 0, tlsConnections: 0 };
  private byPath = new Map<string, number>();
  private tokens = new Set<string>();
  private inFlight = 0;

  private constructor(private readonly props: FakeKeyVaultProps) {
    this.latencyMs = props.latencyMs ?? 0;
    this.dnsSuffixes = (props.dnsSuffixes ?? ['vault.azure.net']).map((s) => s.toLowerCase());
    this.resource = props.resource ?? `https://${this.dnsSuffixes[0]}`;
    this.server = createServer({ cert: props.certPem, key: props.keyPem }, (req, res) => {
      void this.handle(req, res);
    });
    this.server.maxConnections = 1024;
    this.server.on('secureConnection', (socket: Socket) => {
      this.counters.tlsConnections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The bound address and port. */
  public get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** The URL of a vault, `https://<vault>.<first suffix>[:port]/`. */
  public vaultUrl(vaultName: string): string {
    const port = this.address.port === 443 ? '' : `:${this.address.port}`;
    return `https://${vaultName}.${this.dnsSuffixes[0]}${port}/`;
  }

  /** Stores a new secret version; returns its version id. */
  public setSecret(vaultName: string, name: string, value: string, options: SecretOptions = {}): string {
    return this.store(vaultName, 'secrets', name, { value, contentType: options.contentType }, options);
  }

  /** Stores a new key version from a public or private key (only the public JWK is kept). */
  public setKey(vaultName: string, name: string, key: KeyObject, options: StoreOptions = {}): string {
    const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
    return this.store(vaultName, 'keys', name, { jwk }, options);
  }

  /**
   * Imports a certificate the way Key Vault keeps one: a certificate, a key and a managed secret with
   * the same name and version; the secret carries `kid` and the PEM or base64-PFX bundle.
   */
  public importCertificate(vaultName: string, name: string, options: CertificateImportOptions): string {
    const chain = options.chain ?? [options.leaf];
    const version = this.store(vaultName, 'certificates', name, { der: options.leaf.certDer }, options);
    const created = new Date(this.find(vaultName, 'certificates', name)!.versions.at(-1)!.created * 1000);
    const same = { ...options, created, version };
    const jwk = createPublicKey(options.leaf.keyPem).export({ format: 'jwk' });
    this.store(vaultName, 'keys', name, { jwk, managed: true }, same);
    const value =
      options.format === 'pem' ? toPemBundle(options.leaf, chain) : toPfxBase64(options.leaf, chain);
    const contentType = options.format === 'pem' ? 'application/x-pem-file' : 'application/x-pkcs12';
    this.store(vaultName, 'secrets', name, { value, contentType, managed: true }, same);
    return version;
  }

  /** Enables or disables one stored version. */
  public setEnabled(
    vaultName: string,
    collection: VaultCollection,
    name: string,
    version: string,
    enabled: boolean,
  ): void {
    const found = this.find(vaultName, collection, name)?.versions.find((v) => v.version === version);
    if (!found) throw new Error(`setEnabled: no ${collection} ${name}/${version} in vault ${vaultName}`);
    found.enabled = enabled;
  }

  /** Adds a fault rule; rules are tried in the order added. */
  public injectFault(rule: FaultRule): void {
    if (!(rule.count > 0)) throw new Error(`injectFault: count must be positive, got ${rule.count}`);
    this.faults.push({ rule, left: rule.count });
  }

  /** Removes every fault rule not yet used up. */
  public clearFaults(): void {
    this.faults.length = 0;
  }

  /** What the fake has seen since start or the last {@link resetStats}. */
  public stats(): FakeKeyVaultStats {
    return {
      ...this.counters,
      inFlight: this.inFlight,
      openConnections: this.sockets.size,
      byPath: Object.fromEntries(this.byPath),
      distinctTokens: this.tokens.size,
    };
  }

  /** Zeroes the counters. */
  public resetStats(): void {
    this.counters = { authorizedRequests: 0, challenges: 0, faults: 0, maxInFlight: 0, tlsConnections: 0 };
    this.byPath = new Map();
    this.tokens = new Set();
  }

  /** Stops listening and drops every connection (stalled ones included). */
  public async close(): Promise<void> {
    for (const timer of this.stallTimers) clearTimeout(timer);
    this.stallTimers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private store(
    vaultName: string,
    collection: VaultCollection,
    name: string,
    data: StoredVersion['data'],
    options: StoreOptions & { version?: string },
  ): string {
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name))
      throw new Error(`invalid object name ${JSON.stringify(name)}: use 1-127 of [0-9a-zA-Z-]`);
    const vault = this.vault(vaultName);
    const key = name.toLowerCase();
    const object = vault[collection].get(key) ?? { name, versions: [] };
    vault[collection].set(key, object);
    if (object.versions.length >= MAX_VERSIONS_PER_OBJECT) {
      throw new Error(
        `${collection} ${name} already has ${MAX_VERSIONS_PER_OBJECT} versions (the fake's bound)`,
      );
    }
    // Distinct, increasing creation times unless given, so "newest" is well defined.
    const created = options.created
      ? Math.floor(options.created.getTime() / 1000)
      : Math.max(Math.floor(Date.now() / 1000), this.lastCreated + 1);
    this.lastCreated = Math.max(this.lastCreated, created);
    const version = options.version ?? randomBytes(16).toString('hex');
    object.versions.push({ version, enabled: options.enabled ?? true, created, tags: options.tags, data });
    return version;
  }

  private vault(vaultName: string): Vault {
    const key = vaultName.toLowerCase();
    let vault = this.vaults.get(key);
    if (!vault) {
      vault = { secrets: new Map(), keys: new Map(), certificates: new Map() };
      this.vaults.set(key, vault);
    }
    return vault;
  }

  private find(vaultName: string, collection: VaultCollection, name: string): StoredObject | undefined {
    return this.vaults.get(vaultName.toLowerCase())?.[collection].get(name.toLowerCase());
  }

  private vaultNameOf(hostHeader: string | undefined): string | undefined {
    const host = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
    for (const suffix of this.dnsSuffixes) {
      if (host.endsWith(`.${suffix}`)) return host.slice(0, -suffix.length - 1);
    }
    return this.props.defaultVault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    req.resume(); // Bodies are not used; drain them.
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));

    const url = new URL(req.url ?? '/', 'https://fake');
    const hostHeader = req.headers.host ?? '';
    const base = `https://${hostHeader}`;
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    const accepted = token !== '' && (this.props.acceptToken ? this.props.acceptToken(token) : true);
    if (!accepted) {
      this.counters.challenges++;
      const authority = (this.props.authority ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
      res.setHeader(
        'WWW-Authenticate',
        `Bearer authorization="${authority}/${this.props.tenantId}", resource="${this.resource}"`,
      );
      return this.sendError(res, 401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
    }

    const vaultName = this.vaultNameOf(hostHeader);
    const pathKey = `${vaultName ?? hostHeader}${url.pathname}`.toLowerCase();
    this.counters.authorizedRequests++;
    if (this.byPath.has(pathKey) || this.byPath.size < MAX_TRACKED_PATHS) {
      this.byPath.set(pathKey, (this.byPath.get(pathKey) ?? 0) + 1);
    }
    if (this.tokens.size < MAX_TRACKED_TOKENS) this.tokens.add(token);

    const fault = this.takeFault(pathKey);
    if (fault) {
      this.counters.faults++;
      if (fault.kind === 'stall') {
        stallRequest(req, res, this.props.stallMs ?? 30_000, this.stallTimers);
        return;
      }
      if (fault.retryAfterSeconds !== undefined)
        res.setHeader('Retry-After', String(fault.retryAfterSeconds));
      if (fault.kind === 403) return this.sendRbacForbidden(res, vaultName ?? hostHeader, url.pathname);
      const code = fault.kind === 429 ? 'Throttled' : 'InternalServerError';
      const message =
        fault.kind === 429 ? 'Rate limit is exceeded. Try again in a few seconds.' : 'Injected server error.';
      return this.sendError(res, fault.kind, code, message);
    }

    if (req.method !== 'GET')
      return this.sendError(
        res,
        405,
        'BadParameter',
        `Method ${req.method} is not served by the fake Key Vault.`,
      );
    if (!url.searchParams.get('api-version')) {
      return this.sendError(
        res,
        400,
        'BadParameter',
        'The request URI contains an invalid or missing api-version.',
      );
    }
    if (!vaultName || !this.vaults.has(vaultName)) {
      return this.sendError(res, 404, 'VaultNotFound', `No vault is served for host ${hostHeader}.`);
    }

    // '/secrets/<name>[/<version>|/versions|/]' splits into ['', collection, name, third?].
    const [, collection, name, third = '', ...rest] = url.pathname.split('/');
    if (rest.length > 0 || !['secrets', 'keys', 'certificates'].includes(collection) || !name) {
      return this.sendError(
        res,
        404,
        'NotFound',
        `Path ${url.pathname} is not served by the fake Key Vault.`,
      );
    }
    const object = this.find(vaultName, collection as VaultCollection, name);
    if (third === 'versions')
      return this.sendVersions(res, base, collection as VaultCollection, name, object, url);
    return this.sendObject(res, base, collection as VaultCollection, name, third, object);
  }

  private takeFault(pathKey: string): FaultRule | undefined {
    const entry = this.faults.find((f) => f.left > 0 && (!f.rule.match || f.rule.match.test(pathKey)));
    if (!entry) return undefined;
    entry.left--;
    if (entry.left === 0) this.faults.splice(this.faults.indexOf(entry), 1);
    return entry.rule;
  }

  private sendObject(
    res: ServerResponse,
    base: string,
    collection: VaultCollection,
    name: string,
    version: string,
    object: StoredObject | undefined,
  ): void {
    const found = version
      ? object?.versions.find((v) => v.version.toLowerCase() === version.toLowerCase())
      : object?.versions.reduce((a, b) => (b.created >= a.created ? b : a));
    if (!object || !found) {
      const [code, noun] = NOT_FOUND[collection];
      const id = version ? `${name}/${version}` : name;
      return this.sendError(
        res,
        404,
        code,
        `A ${noun} with (name/id) ${id} was not found in this key vault. If you recently deleted this ${noun} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    if (!found.enabled) {
      const noun = NOT_FOUND[collection][1];
      const inner = `${noun[0].toUpperCase()}${noun.slice(1)}Disabled`;
      return this.sendJson(res, 403, {
        error: {
          code: 'Forbidden',
          message: `Operation get is not allowed on a disabled ${noun}.`,
          innererror: { code: inner },
        },
      });
    }
    this.sendJson(res, 200, this.render(base, collection, object.name, found, true));
  }

  private sendVersions(
    res: ServerResponse,
    base: string,
    collection: VaultCollection,
    name: string,
    object: StoredObject | undefined,
    url: URL,
  ): void {
    const requested = Number(url.searchParams.get('maxresults') ?? PAGE_SIZE_MAX);
    if (!Number.isInteger(requested) || requested < 1 || requested > PAGE_SIZE_MAX) {
      return this.sendError(
        res,
        400,
        'BadParameter',
        `maxresults must be an integer 1..${PAGE_SIZE_MAX}, got ${url.searchParams.get('maxresults')}`,
      );
    }
    const skipToken = url.searchParams.get('$skiptoken');
    const offset = skipToken
      ? Number(
          Buffer.from(skipToken, 'base64url')
            .toString()
            .replace(/^offset:/, ''),
        )
      : 0;
    const versions = object?.versions ?? [];
    // Key Vault lists versions of a missing object as an empty list, not a 404.
    const page = versions.slice(offset, offset + requested);
    const next = offset + requested < versions.length ? offset + requested : undefined;
    const nextLink =
      next === undefined
        ? null
        : `${base}/${collection}/${object!.name}/versions?api-version=${url.searchParams.get('api-version')}` +
          `&$skiptoken=${Buffer.from(`offset:${next}`).toString('base64url')}&maxresults=${requested}`;
    this.sendJson(res, 200, {
      value: page.map((v) => this.render(base, collection, object?.name ?? name, v, false)),
      nextLink,
    });
  }

  private render(
    base: string,
    collection: VaultCollection,
    name: string,
    v: StoredVersion,
    full: boolean,
  ): object {
    const attributes: Record<string, unknown> = {
      enabled: v.enabled,
      created: v.created,
      updated: v.created,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    };
    const tags = v.tags ? { tags: v.tags } : {};
    if (collection === 'secrets') {
      const data = v.data as SecretData;
      const managed = data.managed ? { managed: true, kid: `${base}/keys/${name}/${v.version}` } : {};
      return {
        ...(full ? { value: data.value } : {}),
        ...(data.contentType ? { contentType: data.contentType } : {}),
        id: `${base}/secrets/${name}/${v.version}`,
        attributes,
        ...tags,
        ...managed,
      };
    }
    if (collection === 'keys') {
      const data = v.data as KeyData;
      const kid = `${base}/keys/${name}/${v.version}`;
      const managed = data.managed ? { managed: true } : {};
      if (!full) return { kid, attributes: { ...attributes, exportable: false }, ...tags, ...managed };
      const { kty, n, e, crv, x, y } = data.jwk;
      const keyOps =
        kty === 'RSA' ? ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] : ['sign', 'verify'];
      const key =
        kty === 'RSA' ? { kid, kty, key_ops: keyOps, n, e } : { kid, kty, key_ops: keyOps, crv, x, y };
      return { key, attributes: { ...attributes, exportable: false }, ...tags, ...managed };
    }
    const der = (v.data as CertificateData).der;
    const x5t = createHash('sha1').update(der).digest('base64url');
    const id = `${base}/certificates/${name}/${v.version}`;
    if (!full) return { id, x5t, attributes, ...tags };
    return {
      id,
      kid: `${base}/keys/${name}/${v.version}`,
      sid: `${base}/secrets/${name}/${v.version}`,
      x5t,
      cer: der.toString('base64'),
      attributes,
      ...tags,
    };
  }

  /** Key Vault's answer to an identity without a role on the vault (Azure RBAC): 403 ForbiddenByRbac. */
  private sendRbacForbidden(res: ServerResponse, vault: string, pathname: string): void {
    const [, collection = 'secrets', name = ''] = pathname.split('/');
    const action = { secrets: 'secrets/getSecret', keys: 'keys/read', certificates: 'certificates/read' }[
      collection
    ];
    this.sendJson(res, 403, {
      error: {
        code: 'Forbidden',
        message:
          'Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n' +
          `Caller: appid=00000000-0000-0000-0000-000000000000;oid=00000000-0000-0000-0000-000000000000;iss=https://sts.windows.net/${this.props.tenantId}/\r\n` +
          `Action: 'Microsoft.KeyVault/vaults/${action ?? 'secrets/getSecret'}/action'\r\n` +
          `Resource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/fake/providers/microsoft.keyvault/vaults/${vault}/${collection}/${name}'\r\n` +
          `Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${vault};location=fake\r\n`,
        innererror: { code: 'ForbiddenByRbac' },
      },
    });
  }

  private sendError(res: ServerResponse, status: number, code: string, message: string): void {
    this.sendJson(res, status, { error: { code, message } });
  }

  private sendJson(res: ServerResponse, status: number, body: object): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'x-ms-keyvault-service-version': '1.9.0.0',
    });
    res.end(text);
  }
}
