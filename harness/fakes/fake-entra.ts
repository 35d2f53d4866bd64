// An Entra ID (Azure AD) v2.0 token endpoint over real HTTPS, reached by the real @azure/identity
// (MSAL) and azidentity credentials through their authority host: OpenID metadata, instance
// discovery and client_credentials with a client secret or a client assertion (JWT bearer, the
// workload-identity exchange of a service-account token). Counts what it serves.
import { randomBytes, verify } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { stallRequest } from './stall';

/** Properties of {@link FakeEntra.start}. */
export interface FakeEntraProps {
  /** TLS certificate PEM valid for the login host name(s). */
  readonly certPem: string;
  /** TLS private key PEM. */
  readonly keyPem: string;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * Port to listen on.
   * @default 0 (an ephemeral port)
   */
  readonly port?: number;
  /**
   * Lifetime of issued access tokens in seconds.
   * @default 3599
   */
  readonly tokenLifetimeSeconds?: number;
  /**
   * Delay added before every response, in ms.
   * @default 0
   */
  readonly latencyMs?: number;
}

/** A fault the token endpoint answers instead of a token (Entra ID slow, overloaded or gone). */
export interface EntraFaultRule {
  /**
   * An HTTP status (500, 503, ...: answered with AADSTS error JSON) or `'stall'` (no answer; the
   * connection is dropped after `stallMs`).
   */
  readonly kind: number | 'stall';
  /** How many token requests get the fault. */
  readonly count: number;
  /**
   * How long a stalled request is held, in ms.
   * @default 30000
   */
  readonly stallMs?: number;
}

/** A confidential client that authenticates with a secret (service principal). */
export interface ClientSecretRegistration {
  /** Tenant id (GUID). */
  readonly tenantId: string;
  /** Application (client) id. */
  readonly clientId: string;
  /** The client secret. */
  readonly clientSecret: string;
}

/** A client that authenticates with a federated assertion (workload identity). */
export interface FederatedClientRegistration {
  /** Tenant id (GUID). */
  readonly tenantId: string;
  /** Application or managed identity client id. */
  readonly clientId: string;
  /**
   * The `sub` claim the assertion must carry, e.g. `system:serviceaccount:<ns>:<sa>`.
   * @default any subject
   */
  readonly subject?: string;
  /**
   * The `aud` claim the assertion must carry.
   * @default 'api://AzureADTokenExchange'
   */
  readonly audience?: string;
  /**
   * The issuer whose signature the assertion must carry, as Entra ID checks it against the issuer's
   * published keys: `iss` must equal `url` and the RS256 signature must verify with `publicKeyPem` (e.g. a
   * cluster's service-account signing key).
   * @default claims only, no signature check
   */
  readonly issuer?: { readonly url: string; readonly publicKeyPem: string };
}

/** One issued access token, as the fake remembers it. */
export interface IssuedToken {
  readonly tenantId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly grant: 'client_secret' | 'client_assertion';
}

/** Counters of what the fake has served. */
export interface FakeEntraStats {
  /** POSTs to a token endpoint, failed ones included. */
  readonly tokenRequests: number;
  /** Tokens issued. */
  readonly tokensIssued: number;
  /** Token requests per client id. */
  readonly tokenRequestsByClient: Readonly<Record<string, number>>;
  /** OpenID configuration requests. */
  readonly metadataRequests: number;
  /** Instance discovery requests. */
  readonly discoveryRequests: number;
  /** TLS connections accepted (each one a full handshake: keep-alive reuse shows as fewer). */
  readonly tlsConnections: number;
}

const MAX_BODY_BYTES = 64 * 1024;
const MAX_REMEMBERED_TOKENS = 100_000;

/** The fake token endpoint. */
export class FakeEntra {
  /** Starts the server; resolves once it listens. */
  public static async start(props: FakeEntraProps): Promise<FakeEntra> {
    const entra = new FakeEntra(props);
    await new Promise<void>((resolve, reject) => {
      entra.server.once('error', reject);
      entra.server.listen(props.port ?? 0, props.host ?? '127.0.0.1', () => resolve());
    });
    return entra;
  }

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly secrets = new Map<string, ClientSecretRegistration>();
  private readonly federated = new Map<string, FederatedClientRegistration>();
  private readonly issued = new Map<string, IssuedToken>();
  private verifiedAssertions: Record<string, unknown>[] = [];
  private counters = {
    tokenRequests: 0,
    tokensIssued: 0,
    metadataRequests: 0,
    discoveryRequests: 0,
    tlsConnections: 0,
  };
  private byClient = new Map<string, number>();
  private readonly faults: { rule: EntraFaultRule; left: number }[] = [];
  private readonly stallTimers = new Set<NodeJS.Timeout>();

  /** Delay added before every response, in ms (may be changed between requests). */
  public latencyMs: number;

  private constructor(private readonly props: FakeEntraProps) {
    this.latencyMs = props.latencyMs ?? 0;
    this.server = createServer({ cert: props.certPem, key: props.keyPem }, (req, res) => {
      void this.handle(req, res);
    });
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

  /** Registers a service principal with a client secret. */
  public addClientSecret(registration: ClientSecretRegistration): void {
    this.secrets.set(`${registration.tenantId}/${registration.clientId}`.toLowerCase(), registration);
  }

  /** Registers a federated identity credential (workload identity). */
  public addFederatedClient(registration: FederatedClientRegistration): void {
    this.federated.set(`${registration.tenantId}/${registration.clientId}`.toLowerCase(), registration);
  }

  /** Adds a fault rule for token requests; rules are used in the order added. */
  public injectFault(rule: EntraFaultRule): void {
    if (!(rule.count > 0)) throw new Error(`injectFault: count must be positive, got ${rule.count}`);
    this.faults.push({ rule, left: rule.count });
  }

  /** Removes every fault rule not yet used up. */
  public clearFaults(): void {
    this.faults.length = 0;
  }

  /** Who a token was issued to, if this fake issued it. */
  public tokenInfo(accessToken: string): IssuedToken | undefined {
    return this.issued.get(accessToken);
  }

  /** What the fake has served since start or the last {@link resetStats}. */
  public stats(): FakeEntraStats {
    return { ...this.counters, tokenRequestsByClient: Object.fromEntries(this.byClient) };
  }

  /**
   * Claims of the assertions whose issuer signature was verified (registrations with `issuer`), oldest first,
   * at most the last 100. The tokens themselves are not kept.
   */
  public verifiedAssertionClaims(): readonly Record<string, unknown>[] {
    return [...this.verifiedAssertions];
  }

  /** Zeroes the counters (issued tokens stay valid). */
  public resetStats(): void {
    this.counters = {
      tokenRequests: 0,
      tokensIssued: 0,
      metadataRequests: 0,
      discoveryRequests: 0,
      tlsConnections: 0,
    };
    this.byClient = new Map();
  }

  /** Stops listening and drops every connection. */
  public async close(): Promise<void> {
    for (const timer of this.stallTimers) clearTimeout(timer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req).catch(() => undefined);
    if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (body === undefined)
      return sendJson(res, 413, aadError('invalid_request', 900144, 'The request body is too large.'));
    const url = new URL(req.url ?? '/', 'https://fake');
    const origin = `https://${req.headers.host ?? 'localhost'}`;
    const parts = url.pathname.split('/').filter(Boolean);

    if (req.method === 'GET' && parts.join('/') === 'common/discovery/instance') {
      this.counters.discoveryRequests++;
      // The tenant comes from the authorization_endpoint the client asks about.
      const endpoint =
        url.searchParams.get('authorization_endpoint') ?? `${origin}/common/oauth2/v2.0/authorize`;
      // Discovery is asked at login.microsoftonline.com about another authority: answer for that
      // authority's own host, so metadata and tokens come from the host the client was configured with.
      const authority = new URL(endpoint);
      const tenant = authority.pathname.split('/').filter(Boolean)[0] ?? 'common';
      const host = authority.host;
      return sendJson(res, 200, {
        tenant_discovery_endpoint: `${authority.origin}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    if (
      req.method === 'GET' &&
      parts.length === 4 &&
      parts[1] === 'v2.0' &&
      parts[2] === '.well-known' &&
      parts[3] === 'openid-configuration'
    ) {
      this.counters.metadataRequests++;
      const tenant = parts[0];
      return sendJson(res, 200, {
        issuer: `${origin}/${tenant}/v2.0`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        device_authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        tenant_region_scope: 'WW',
        cloud_instance_name: new URL(origin).hostname,
      });
    }
    if (req.method === 'POST' && parts.length === 4 && parts.slice(1).join('/') === 'oauth2/v2.0/token') {
      const fault = this.faults.find((f) => f.left > 0);
      if (fault) {
        fault.left--;
        this.counters.tokenRequests++;
        if (fault.rule.kind === 'stall') {
          stallRequest(req, res, fault.rule.stallMs ?? 30_000, this.stallTimers);
          return;
        }
        return sendJson(
          res,
          fault.rule.kind,
          aadError(
            'temporarily_unavailable',
            50196,
            'The server is temporarily unavailable (injected fault).',
          ),
        );
      }
      return this.token(res, parts[0], new URLSearchParams(body));
    }
    sendJson(
      res,
      404,
      aadError('invalid_request', 90002, `Path ${url.pathname} is not served by the fake Entra ID.`),
    );
  }

  private token(res: ServerResponse, tenantId: string, form: URLSearchParams): void {
    this.counters.tokenRequests++;
    const clientId = form.get('client_id') ?? '';
    this.byClient.set(clientId, (this.byClient.get(clientId) ?? 0) + 1);
    const scope = form.get('scope') ?? '';
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(
        res,
        400,
        aadError(
          'unsupported_grant_type',
          70003,
          `The fake serves client_credentials only, got ${form.get('grant_type')}.`,
        ),
      );
    }
    const resourceScope = scope.split(' ').find((s) => s.endsWith('/.default'));
    if (!resourceScope) {
      return sendJson(
        res,
        400,
        aadError(
          'invalid_scope',
          1002012,
          `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        ),
      );
    }
    const key = `${tenantId}/${clientId}`.toLowerCase();
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    let grant: IssuedToken['grant'];
    if (secret !== null) {
      const registered = this.secrets.get(key);
      if (!registered) return sendJson(res, 400, unknownClient(clientId, tenantId));
      if (registered.clientSecret !== secret) {
        return sendJson(
          res,
          401,
          aadError(
            'invalid_client',
            7000215,
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
          ),
        );
      }
      grant = 'client_secret';
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        return sendJson(
          res,
          400,
          aadError(
            'invalid_request',
            50027,
            'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.',
          ),
        );
      }
      const registered = this.federated.get(key);
      if (!registered) return sendJson(res, 400, unknownClient(clientId, tenantId));
      const claims = decodeJwtClaims(assertion);
      if (!claims)
        return sendJson(
          res,
          400,
          aadError('invalid_client', 50027, 'Invalid JWT token. The token is not in JWS format.'),
        );
      const audience = registered.audience ?? 'api://AzureADTokenExchange';
      const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (
        !auds.includes(audience) ||
        (registered.subject !== undefined && claims.sub !== registered.subject)
      ) {
        return sendJson(
          res,
          400,
          aadError(
            'invalid_client',
            70021,
            `No matching federated identity record found for presented assertion subject '${String(claims.sub)}'. The audience must be ${audience}.`,
          ),
        );
      }
      if (registered.issuer) {
        if (
          claims.iss !== registered.issuer.url ||
          !signatureVerifies(assertion, registered.issuer.publicKeyPem)
        ) {
          return sendJson(
            res,
            400,
            aadError(
              'invalid_client',
              700211,
              `No matching federated identity record found for presented assertion issuer '${String(claims.iss)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
            ),
          );
        }
        this.verifiedAssertions = [...this.verifiedAssertions, claims].slice(-100);
      }
      grant = 'client_assertion';
    } else {
      return sendJson(
        res,
        401,
        aadError(
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      );
    }

    const lifetime = this.props.tokenLifetimeSeconds ?? 3599;
    const now = Math.floor(Date.now() / 1000);
    const accessToken = [
      b64url({ typ: 'JWT', alg: 'none' }),
      b64url({
        aud: resourceScope.replace(/\/\.default$/, ''),
        appid: clientId,
        tid: tenantId,
        iat: now,
        exp: now + lifetime,
        jti: randomBytes(8).toString('hex'),
      }),
      randomBytes(16).toString('base64url'),
    ].join('.');
    if (this.issued.size >= MAX_REMEMBERED_TOKENS)
      this.issued.delete(this.issued.keys().next().value as string);
    this.issued.set(accessToken, { tenantId, clientId, scope: resourceScope, grant });
    this.counters.tokensIssued++;
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    });
  }
}

/** A request body of at most 64 KiB (rejects beyond). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** RS256 JWS signature check of a compact JWT. */
export function signatureVerifies(jwt: string, publicKeyPem: string): boolean {
  const [header, payload, signature] = jwt.split('.');
  try {
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string }).alg;
    return (
      alg === 'RS256' &&
      verify(
        'RSA-SHA256',
        Buffer.from(`${header}.${payload}`),
        publicKeyPem,
        Buffer.from(signature, 'base64url'),
      )
    );
  } catch {
    return false;
  }
}

/** The claims of a compact JWT (unverified), or undefined when it is not one. */
export function decodeJwtClaims(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Entra ID's error body: `error`, `AADSTS<code>: ` description, codes, ids. */
export function aadError(error: string, code: number, description: string): object {
  return {
    error,
    error_description: `AADSTS${code}: ${description}`,
    error_codes: [code],
    timestamp: new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z'),
    trace_id: '00000000-0000-0000-0000-000000000000',
    correlation_id: '00000000-0000-0000-0000-000000000000',
  };
}

function unknownClient(clientId: string, tenantId: string): object {
  return aadError(
    'unauthorized_client',
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
  );
}

/** Answers JSON with its length. */
export function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
