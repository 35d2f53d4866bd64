// The AKS identity-binding token proxy (azure-provider §3.3), as a client sees it: one HTTPS endpoint
// (kubernetes.default.svc.cluster.local on AKS) that routes by TLS server name. The name
// `a<base32hex(sha256("identity-binding" + clusterId))>.ests.aks` reaches the token proxy, whose
// certificate the cluster CA signs; any other name (or none) reaches the API server, whose certificate
// carries `hcp-kubernetes.<clusterId>.svc.cluster.local` (where upstream reads the cluster id from).
// The proxy speaks Entra ID's token protocol on the authority's own paths (azidentity rewrites only the
// URL's scheme, host and path prefix; the Host header stays the authority's): it takes a client_credentials
// request whose client_assertion is a service-account token for `api://AKSIdentityBinding`, checks that
// the service account may use the managed identity `client_id` (AKS: a TokenReview and a
// SubjectAccessReview for verb `use-managed-identity` in API group `cid.wi.aks.azure.com`, resource
// <client id>), and exchanges it at Entra ID with an assertion of its own issuer, so one federated
// credential per identity serves every cluster and service account. Entra ID's answer (token or error)
// goes back unchanged. The proxy's own refusals are not documented by AKS; the fake words them in
// Entra ID's error shape. Every request is recorded (names and claims, never token values).
import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpsRequest, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { createSecureContext, SecureContext, TLSSocket } from 'node:tls';
import { aadError, decodeJwtClaims, FakeEntra, readBody, sendJson, signatureVerifies } from './fake-entra';
import { identityBindingServerName } from '../../runtime/provider/identity/token-proxy-target';
import { TestCa } from './test-ca';

/** The audience of the service-account token the proxy accepts. */
export const IDENTITY_BINDING_AUDIENCE = 'api://AKSIdentityBinding';

/** Properties of {@link FakeTokenProxy.start}. */
export interface FakeTokenProxyProps {
  /** The cluster CA: signs the proxy's and the API server's certificates. */
  readonly ca: TestCa;
  /** The Entra ID the proxy exchanges at (its certificate must be one `ca` signed, or `entraCaPem`'s). */
  readonly entra: FakeEntra;
  /**
   * CA certificate the proxy trusts for Entra ID.
   * @default `ca`'s certificate
   */
  readonly entraCaPem?: string;
  /**
   * The cluster id (the API server certificate's `hcp-kubernetes.<id>.svc.cluster.local`).
   * @default 'fake-cluster-0001'
   */
  readonly clusterId?: string;
  /**
   * The TLS server name the proxy answers on.
   * @default identityBindingServerName(clusterId)
   */
  readonly serverName?: string;
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
   * Path prefix the proxy serves under (a `--token-proxy-url` with a path).
   * @default '' (the authority's paths at the root)
   */
  readonly pathPrefix?: string;
  /**
   * The issuer whose RS256 signature a service-account token must carry (AKS: the cluster's own, via
   * TokenReview).
   * @default claims only, no signature check
   */
  readonly serviceAccountIssuer?: { readonly url: string; readonly publicKeyPem: string };
  /**
   * Decides whether `serviceAccount` (`system:serviceaccount:<ns>:<name>`) may use `clientId`: resolves
   * undefined when allowed, else the reason. AKS asks the API server (SubjectAccessReview).
   * @default the grants given to {@link FakeTokenProxy.allow}
   */
  readonly authorize?: (serviceAccount: string, clientId: string) => Promise<string | undefined>;
}

/** One request the proxy received, without any token value. */
export interface TokenProxyRequest {
  /** TLS server name the client sent (undefined: none). */
  readonly serverName: string | undefined;
  /** Whether the name reached the proxy (else the API server). */
  readonly reachedProxy: boolean;
  readonly method: string;
  /** Path without the proxy's prefix. */
  readonly path: string;
  /** Query string, '' when none. */
  readonly query: string;
  /** Host header. */
  readonly host: string | undefined;
  readonly contentType: string | undefined;
  /** Names of the form fields, sorted (token requests). */
  readonly formFields: readonly string[];
  /** Form values except `client_assertion` (token requests). */
  readonly form: Readonly<Record<string, string>>;
  /** Claims of the client assertion (unverified), when there is one. */
  readonly assertionClaims?: Readonly<Record<string, unknown>>;
  /** Status answered. */
  status: number;
}

/** Counters of what the proxy served. */
export interface FakeTokenProxyStats {
  /** Token requests that reached the proxy. */
  readonly tokenRequests: number;
  /** Tokens handed back (Entra ID answered 200). */
  readonly tokensIssued: number;
  /** Token requests refused by the proxy itself (audience, signature, authorization). */
  readonly refused: number;
  /** Requests that reached the API server identity instead (another TLS server name). */
  readonly apiServerRequests: number;
}

const MAX_RECORDED_REQUESTS = 1000;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The fake token proxy (and the API server identity on the same endpoint). */
export class FakeTokenProxy {
  /** Starts the server; resolves once it listens. */
  public static async start(props: FakeTokenProxyProps): Promise<FakeTokenProxy> {
    const proxy = new FakeTokenProxy(props);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(props.port ?? 0, props.host ?? '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The cluster id in the API server certificate. */
  public readonly clusterId: string;
  /** The TLS server name of the proxy. */
  public readonly serverName: string;
  /** The issuer of the proxy's own assertions to Entra ID. */
  public readonly issuerUrl: string;
  /** Public key of that issuer (register it at Entra ID with {@link federatedRegistration}). */
  public readonly issuerPublicKeyPem: string;

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly issuerKey: KeyObject;
  private readonly entraAgent: Agent;
  private readonly grants = new Set<string>();
  private readonly recorded: TokenProxyRequest[] = [];
  private counters = { tokenRequests: 0, tokensIssued: 0, refused: 0, apiServerRequests: 0 };
  private faults: { status: number; left: number }[] = [];

  private constructor(private readonly props: FakeTokenProxyProps) {
    this.clusterId = props.clusterId ?? 'fake-cluster-0001';
    this.serverName = props.serverName ?? identityBindingServerName(this.clusterId);
    this.issuerUrl = `https://identitybinding.fake.test/${this.clusterId}/`;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.issuerKey = privateKey;
    this.issuerPublicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.entraAgent = new Agent({ keepAlive: true, ca: props.entraCaPem ?? props.ca.caCertPem });

    const ip = props.host ?? '127.0.0.1';
    const apiServer = props.ca.issueServerCertificate({
      dnsNames: [
        'kubernetes.default.svc.cluster.local',
        'kubernetes.default.svc',
        'kubernetes.default',
        'kubernetes',
        `hcp-kubernetes.${this.clusterId}.svc.cluster.local`,
      ],
      ipAddresses: [ip],
    });
    const proxyCert = props.ca.issueServerCertificate({ dnsNames: [this.serverName], ipAddresses: [] });
    const proxyContext: SecureContext = createSecureContext({
      cert: proxyCert.certPem,
      key: proxyCert.keyPem,
    });
    this.server = createServer(
      {
        cert: apiServer.certPem,
        key: apiServer.keyPem,
        // Routing by server name, as AKS does on the API server's address.
        SNICallback: (name, callback) =>
          callback(null, name.toLowerCase() === this.serverName ? proxyContext : undefined),
      },
      (req, res) => {
        void this.handle(req, res).catch(() => {
          if (!res.headersSent) sendJson(res, 500, aadError('server_error', 50000, 'fake proxy failure'));
        });
      },
    );
    this.server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The bound address and port. */
  public get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** `https://<ip>:<port><prefix>`, a value for `--token-proxy-url`. */
  public get url(): string {
    return `https://${this.address.address}:${this.address.port}${this.props.pathPrefix ?? ''}`;
  }

  /**
   * Lets `serviceAccount` (`<namespace>:<name>` or `system:serviceaccount:<namespace>:<name>`) use the
   * managed identity `clientId` (what identityBindingRbac's ClusterRoleBinding grants on AKS).
   */
  public allow(serviceAccount: string, clientId: string): void {
    this.grants.add(`${subjectOf(serviceAccount)}|${clientId.toLowerCase()}`);
  }

  /** The federated identity credential Entra ID needs for `clientId` (one per identity, any cluster). */
  public federatedRegistration(tenantId: string, clientId: string) {
    return {
      tenantId,
      clientId,
      audience: 'api://AzureADTokenExchange',
      issuer: { url: this.issuerUrl, publicKeyPem: this.issuerPublicKeyPem },
    };
  }

  /** The next `count` token requests are answered `status` by the proxy itself (503: proxy overloaded). */
  public injectFault(status: number, count: number): void {
    if (!(count > 0)) throw new Error(`injectFault: count must be positive, got ${count}`);
    this.faults.push({ status, left: count });
  }

  /** Requests received, oldest first (at most the last 1000). */
  public requests(): readonly TokenProxyRequest[] {
    return [...this.recorded];
  }

  /** What the proxy has served since start or the last {@link resetStats}. */
  public stats(): FakeTokenProxyStats {
    return { ...this.counters };
  }

  /** Zeroes the counters and forgets the recorded requests. */
  public resetStats(): void {
    this.counters = { tokenRequests: 0, tokensIssued: 0, refused: 0, apiServerRequests: 0 };
    this.recorded.length = 0;
  }

  /** Stops listening and drops every connection. */
  public async close(): Promise<void> {
    this.entraAgent.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req).catch(() => undefined);
    const servername = (req.socket as TLSSocket).servername;
    const serverName = typeof servername === 'string' && servername !== '' ? servername : undefined;
    const reachedProxy = serverName?.toLowerCase() === this.serverName;
    const url = new URL(req.url ?? '/', 'https://proxy');
    const prefix = this.props.pathPrefix ?? '';
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || '/' : url.pathname;
    const form = new URLSearchParams(req.method === 'POST' ? (body ?? '') : '');
    const assertion = form.get('client_assertion');
    const record: TokenProxyRequest = {
      serverName,
      reachedProxy,
      method: req.method ?? '',
      path,
      query: url.search.replace(/^\?/, ''),
      host: req.headers.host,
      contentType: req.headers['content-type'],
      formFields: [...new Set(form.keys())].sort(),
      form: Object.fromEntries([...form.entries()].filter(([k]) => k !== 'client_assertion')),
      assertionClaims: assertion ? decodeJwtClaims(assertion) : undefined,
      status: 0,
    };
    this.recorded.push(record);
    if (this.recorded.length > MAX_RECORDED_REQUESTS) this.recorded.shift();
    const answer = (status: number, json: object) => {
      record.status = status;
      sendJson(res, status, json);
    };

    if (!reachedProxy) {
      // The API server: it serves no token endpoint and knows no such caller.
      this.counters.apiServerRequests++;
      return answer(401, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    if (body === undefined)
      return answer(413, aadError('invalid_request', 900144, 'The request body is too large.'));
    const parts = path.split('/').filter(Boolean);
    if (
      req.method === 'GET' &&
      parts.length === 4 &&
      parts.slice(1).join('/') === 'v2.0/.well-known/openid-configuration'
    ) {
      // Tenant discovery passes through: MSAL asks it before the first token request.
      return this.forward(req, path + url.search, undefined, record, res);
    }
    if (!(req.method === 'POST' && parts.length === 4 && parts.slice(1).join('/') === 'oauth2/v2.0/token'))
      return answer(
        404,
        aadError('invalid_request', 90002, `Path ${path} is not served by the token proxy.`),
      );

    this.counters.tokenRequests++;
    const fault = this.faults.find((f) => f.left > 0);
    if (fault) {
      fault.left--;
      return answer(
        fault.status,
        aadError('temporarily_unavailable', 50196, 'The token proxy is unavailable (injected fault).'),
      );
    }
    const refusal = await this.refusal(form, record.assertionClaims, assertion);
    if (refusal) {
      this.counters.refused++;
      return answer(refusal.status, aadError(refusal.error, refusal.code, refusal.description));
    }
    // The exchange: the same request, with the proxy's own assertion for this identity.
    const exchange = new URLSearchParams(form);
    exchange.set('client_assertion', this.proxyAssertion(parts[0], form.get('client_id') ?? ''));
    return this.forward(req, path, exchange.toString(), record, res);
  }

  private async refusal(
    form: URLSearchParams,
    claims: Readonly<Record<string, unknown>> | undefined,
    assertion: string | null,
  ): Promise<{ status: number; error: string; code: number; description: string } | undefined> {
    if (form.get('grant_type') !== 'client_credentials')
      return {
        status: 400,
        error: 'unsupported_grant_type',
        code: 70003,
        description: 'Only client_credentials is served by the token proxy.',
      };
    if (assertion === null || form.get('client_assertion_type') !== JWT_BEARER)
      return {
        status: 400,
        error: 'invalid_request',
        code: 50027,
        description: `The token proxy needs a service-account token as client_assertion (${JWT_BEARER}).`,
      };
    if (!claims)
      return {
        status: 400,
        error: 'invalid_client',
        code: 50027,
        description: 'Invalid JWT token. The token is not in JWS format.',
      };
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(IDENTITY_BINDING_AUDIENCE))
      return {
        status: 401,
        error: 'invalid_client',
        code: 700212,
        description: `The service-account token's audience must be ${IDENTITY_BINDING_AUDIENCE}.`,
      };
    const issuer = this.props.serviceAccountIssuer;
    if (issuer && (claims.iss !== issuer.url || !signatureVerifies(assertion, issuer.publicKeyPem)))
      return {
        status: 401,
        error: 'invalid_client',
        code: 700211,
        description: `The service-account token was not issued by this cluster (${String(claims.iss)}).`,
      };
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now())
      return {
        status: 401,
        error: 'invalid_client',
        code: 700024,
        description: 'The service-account token has expired.',
      };
    const subject = typeof claims.sub === 'string' ? claims.sub : '';
    const clientId = form.get('client_id') ?? '';
    const denied = this.props.authorize
      ? await this.props.authorize(subject, clientId)
      : this.grants.has(`${subject}|${clientId.toLowerCase()}`)
        ? undefined
        : `no ClusterRoleBinding grants use-managed-identity on ${clientId} (cid.wi.aks.azure.com)`;
    if (denied !== undefined)
      return {
        status: 403,
        error: 'unauthorized_client',
        code: 700213,
        description: `${subject} may not use the managed identity ${clientId}: ${denied}.`,
      };
    return undefined;
  }

  /** An RS256 assertion of the proxy's issuer for `clientId`, as AKS signs one per exchange. */
  private proxyAssertion(tenantId: string, clientId: string): string {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({
      iss: this.issuerUrl,
      sub: `identity-binding:${clientId}`,
      aud: ['api://AzureADTokenExchange'],
      tid: tenantId,
      iat: now,
      nbf: now,
      exp: now + 600,
    })}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), this.issuerKey).toString('base64url')}`;
  }

  /** Sends the request on to Entra ID (same path and Host) and relays its answer. */
  private forward(
    req: IncomingMessage,
    pathAndQuery: string,
    body: string | undefined,
    record: TokenProxyRequest,
    res: ServerResponse,
  ): Promise<void> {
    const entra = this.props.entra.address;
    const host = req.headers.host ?? 'login.microsoftonline.com';
    return new Promise<void>((resolve) => {
      const upstream = httpsRequest(
        {
          host: entra.address,
          port: entra.port,
          servername: host.replace(/:\d+$/, ''),
          method: req.method,
          path: pathAndQuery,
          agent: this.entraAgent,
          headers: {
            host,
            ...(body !== undefined
              ? {
                  'content-type': 'application/x-www-form-urlencoded',
                  'content-length': Buffer.byteLength(body),
                }
              : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            const status = response.statusCode ?? 502;
            record.status = status;
            if (status === 200 && body !== undefined) this.counters.tokensIssued++;
            res.writeHead(status, { 'content-type': response.headers['content-type'] ?? 'application/json' });
            res.end(Buffer.concat(chunks));
            resolve();
          });
        },
      );
      upstream.on('error', (err) => {
        record.status = 502;
        sendJson(
          res,
          502,
          aadError('temporarily_unavailable', 50196, `Entra ID unreachable from the proxy: ${err.message}`),
        );
        resolve();
      });
      upstream.end(body);
    });
  }
}

function subjectOf(serviceAccount: string): string {
  return serviceAccount.startsWith('system:serviceaccount:')
    ? serviceAccount
    : `system:serviceaccount:${serviceAccount}`;
}
