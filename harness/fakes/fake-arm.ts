// A double of Azure Resource Manager for the managedClusters resource, where no real ARM can run: the REST
// shapes of Microsoft.ContainerService/managedClusters (GET, PUT as a long-running operation with an
// Azure-AsyncOperation status URL and provisioningState, ETag / If-Match), bearer-token checks, ARM's error
// envelope ({ error: { code, message } }), and counters. Loopback HTTP: the client under test takes the endpoint.
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';

export const MANAGED_CLUSTERS_API_VERSION = '2025-09-01';

/** A stored cluster: the ARM resource body as a GET returns it. */
export type ManagedClusterBody = Record<string, unknown> & {
  id: string;
  name: string;
  properties: Record<string, unknown> & { addonProfiles?: Record<string, unknown> };
};

export interface FakeArmProps {
  /** The bearer token every request must carry. */
  readonly token: string;
  /** Status polls an operation answers InProgress before Succeeded. @default 2 */
  readonly pollsUntilDone?: number;
}

export interface FakeArmStats {
  gets: number;
  puts: number;
  polls: number;
  /** PUT bodies, in order. */
  readonly written: ManagedClusterBody[];
}

/** Fake ARM for managedClusters on 127.0.0.1. */
export class FakeArm {
  readonly stats: FakeArmStats = { gets: 0, puts: 0, polls: 0, written: [] };
  private readonly clusters = new Map<string, { body: ManagedClusterBody; etag: string }>();
  private readonly operations = new Map<string, { remaining: number; clusterId: string; fail?: string }>();
  /** When set, the next PUT's operation ends Failed with this message (an ARM-side failure). */
  failNextOperation?: string;
  /** Runs once, before the next PUT is checked: another writer changing the cluster between a GET and a PUT. */
  beforeNextPut?: () => void;
  private server?: http.Server;
  private base = '';

  constructor(private readonly props: FakeArmProps) {}

  /** `http://127.0.0.1:<port>`: the ARM endpoint to give the client. */
  get endpoint(): string {
    return this.base;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Adds a cluster as if created elsewhere (the cluster this stack does not own). */
  addCluster(body: ManagedClusterBody): void {
    this.clusters.set(body.id.toLowerCase(), { body: structuredClone(body), etag: randomUUID() });
  }

  /** The stored body (a copy). */
  cluster(id: string): ManagedClusterBody | undefined {
    const found = this.clusters.get(id.toLowerCase());
    return found && structuredClone(found.body);
  }

  /** Changes a cluster behind the client's back (another tool), which moves its ETag. */
  modifyCluster(id: string, change: (body: ManagedClusterBody) => void): void {
    const found = this.clusters.get(id.toLowerCase())!;
    change(found.body);
    found.etag = randomUUID();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) =>
      send(status, { error: { code, message } });
    if (req.headers.authorization !== `Bearer ${this.props.token}`) {
      return error(
        401,
        'AuthenticationFailed',
        'Authentication failed. The Authorization header is missing or invalid.',
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');

    const operation = /^\/operations\/([^/]+)$/.exec(url.pathname);
    if (operation && req.method === 'GET') {
      this.stats.polls += 1;
      const state = this.operations.get(operation[1]);
      if (!state) return error(404, 'NotFound', `operation ${operation[1]} not found`);
      if (state.remaining > 0) {
        state.remaining -= 1;
        return send(200, { name: operation[1], status: 'InProgress' }, { 'retry-after': '0' });
      }
      const cluster = this.clusters.get(state.clusterId)!;
      if (state.fail) {
        cluster.body.properties.provisioningState = 'Failed';
        return send(200, {
          name: operation[1],
          status: 'Failed',
          error: { code: 'ReconcileAddonsError', message: state.fail },
        });
      }
      cluster.body.properties.provisioningState = 'Succeeded';
      return send(200, { name: operation[1], status: 'Succeeded' });
    }

    if (url.searchParams.get('api-version') !== MANAGED_CLUSTERS_API_VERSION) {
      return error(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${url.searchParams.get('api-version')}' is invalid.`,
      );
    }
    const id = url.pathname.toLowerCase();
    if (
      !/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.containerservice\/managedclusters\/[^/]+$/.test(
        id,
      )
    ) {
      return error(400, 'InvalidResourceId', `'${url.pathname}' is not a managedClusters resource id`);
    }
    const stored = this.clusters.get(id);
    if (req.method === 'GET') {
      this.stats.gets += 1;
      if (!stored)
        return error(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.ContainerService/managedClusters/${id.split('/').pop()}' was not found.`,
        );
      return send(200, { ...stored.body, etag: stored.etag }, { etag: stored.etag });
    }
    if (req.method === 'PUT') {
      this.stats.puts += 1;
      if (!stored) return error(404, 'ResourceNotFound', 'this fake ARM updates existing clusters only');
      const hook = this.beforeNextPut;
      this.beforeNextPut = undefined;
      hook?.();
      const ifMatch = req.headers['if-match'];
      if (ifMatch !== undefined && ifMatch !== stored.etag) {
        return error(
          412,
          'PreconditionFailed',
          'Operation failed because the resource was modified: the If-Match ETag does not match.',
        );
      }
      const body = JSON.parse(text) as ManagedClusterBody;
      if (stored.body.properties.provisioningState === 'Updating') {
        return error(
          409,
          'OperationNotAllowed',
          'Operation is not allowed because the cluster is being updated.',
        );
      }
      this.stats.written.push(structuredClone(body));
      // Read-only properties are the service's, whatever the client sent.
      const { provisioningState: _ignored, ...properties } = body.properties;
      stored.body = {
        ...body,
        id: stored.body.id,
        name: stored.body.name,
        properties: { ...properties, provisioningState: 'Updating' },
      };
      this.assignAddonIdentities(stored.body);
      stored.etag = randomUUID();
      const operationId = randomUUID();
      this.operations.set(operationId, {
        remaining: this.props.pollsUntilDone ?? 2,
        clusterId: id,
        fail: this.failNextOperation,
      });
      this.failNextOperation = undefined;
      return send(
        200,
        { ...stored.body, etag: stored.etag },
        {
          'azure-asyncoperation': `${this.base}/operations/${operationId}?api-version=2016-03-30`,
          'retry-after': '0',
          etag: stored.etag,
        },
      );
    }
    return error(405, 'MethodNotAllowed', `${req.method} is not supported by this fake`);
  }

  /** AKS gives an enabled add-on an identity (`azurekeyvaultsecretsprovider-<cluster>`); a disabled one has none. */
  private assignAddonIdentities(body: ManagedClusterBody): void {
    for (const [key, profile] of Object.entries(body.properties.addonProfiles ?? {})) {
      const p = profile as { enabled?: boolean; identity?: unknown };
      if (key.toLowerCase() !== 'azurekeyvaultsecretsprovider') continue;
      if (p.enabled) {
        p.identity ??= {
          clientId: randomUUID(),
          objectId: randomUUID(),
          resourceId: `/subscriptions/x/resourcegroups/MC_${body.name}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-${body.name}`,
        };
      } else delete p.identity;
    }
  }
}
