// The Azure Instance Metadata Service token endpoint (plain HTTP, like 169.254.169.254), reached by
// the real @azure/identity ManagedIdentityCredential through AZURE_POD_IDENTITY_AUTHORITY_HOST.
// Serves a system-assigned identity and user-assigned ones by client id; counts token requests.
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/** Properties of {@link FakeImds.start}. */
export interface FakeImdsProps {
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
   * Client id of the VM's system-assigned identity; requests without `client_id` get it.
   * @default none (such requests fail with "Identity not found")
   */
  readonly systemAssignedClientId?: string;
  /**
   * Client ids of user-assigned identities attached to the VM (e.g. the AKS add-on identity).
   * @default []
   */
  readonly userAssignedClientIds?: readonly string[];
  /**
   * Lifetime of issued tokens in seconds.
   * @default 86399
   */
  readonly tokenLifetimeSeconds?: number;
}

/** Who an IMDS token was issued to. */
export interface ImdsToken {
  readonly clientId: string;
  readonly resource: string;
}

/** Counters of what the fake has served. */
export interface FakeImdsStats {
  /** Requests to the token path, probes and failures included. */
  readonly requests: number;
  /** Tokens issued. */
  readonly tokensIssued: number;
  /** Tokens issued per client id. */
  readonly tokensByClient: Readonly<Record<string, number>>;
}

const TOKEN_PATH = '/metadata/identity/oauth2/token';
const MAX_REMEMBERED_TOKENS = 100_000;

/** The fake IMDS. */
export class FakeImds {
  /** Starts the server; resolves once it listens. */
  public static async start(props: FakeImdsProps = {}): Promise<FakeImds> {
    const imds = new FakeImds(props);
    await new Promise<void>((resolve, reject) => {
      imds.server.once('error', reject);
      imds.server.listen(props.port ?? 0, props.host ?? '127.0.0.1', () => resolve());
    });
    return imds;
  }

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly issued = new Map<string, ImdsToken>();
  private counters = { requests: 0, tokensIssued: 0 };
  private byClient = new Map<string, number>();

  private constructor(private readonly props: FakeImdsProps) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** `http://<host>:<port>`, the value for AZURE_POD_IDENTITY_AUTHORITY_HOST. */
  public get endpoint(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  /** Who a token was issued to, if this fake issued it. */
  public tokenInfo(accessToken: string): ImdsToken | undefined {
    return this.issued.get(accessToken);
  }

  /** What the fake has served since start or the last {@link resetStats}. */
  public stats(): FakeImdsStats {
    return { ...this.counters, tokensByClient: Object.fromEntries(this.byClient) };
  }

  /** Zeroes the counters. */
  public resetStats(): void {
    this.counters = { requests: 0, tokensIssued: 0 };
    this.byClient = new Map();
  }

  /** Stops listening and drops every connection. */
  public async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://imds');
    if (url.pathname.replace(/\/+$/, '') !== TOKEN_PATH)
      return send(res, 404, {
        error: 'not_found',
        error_description: `Path ${url.pathname} is not served by the fake IMDS.`,
      });
    this.counters.requests++;
    // Real IMDS rejects requests without the header (SSRF protection); clients probe with that.
    if (req.headers['metadata'] !== 'true') {
      return send(res, 400, {
        error: 'invalid_request',
        error_description: 'Required metadata header not specified',
      });
    }
    if (!url.searchParams.get('api-version')) {
      return send(res, 400, {
        error: 'invalid_request',
        error_description: "Required query variable 'api-version' is missing",
      });
    }
    const resource = url.searchParams.get('resource');
    if (!resource)
      return send(res, 400, {
        error: 'invalid_request',
        error_description: "Required query variable 'resource' is missing",
      });
    const requested = url.searchParams.get('client_id');
    const clientId = requested ?? this.props.systemAssignedClientId;
    const known =
      clientId !== undefined &&
      (clientId === this.props.systemAssignedClientId ||
        (this.props.userAssignedClientIds ?? []).includes(clientId));
    if (!known) return send(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });

    const lifetime = this.props.tokenLifetimeSeconds ?? 86399;
    const now = Math.floor(Date.now() / 1000);
    const accessToken = `imds.${randomBytes(24).toString('base64url')}`;
    if (this.issued.size >= MAX_REMEMBERED_TOKENS)
      this.issued.delete(this.issued.keys().next().value as string);
    this.issued.set(accessToken, { clientId: clientId!, resource });
    this.counters.tokensIssued++;
    this.byClient.set(clientId!, (this.byClient.get(clientId!) ?? 0) + 1);
    send(res, 200, {
      access_token: accessToken,
      client_id: clientId,
      expires_in: String(lifetime),
      expires_on: String(now + lifetime),
      ext_expires_in: String(lifetime),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
    });
  }
}

function send(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
