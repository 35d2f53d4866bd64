// A small test-only Kubernetes REST client over node:https with the rig's admin client certificate:
// get/create/patch/delete, server-side apply (application/apply-patch+yaml + fieldManager), dryRun=All,
// resource discovery to turn an object into its URL, and a bounded wait helper.
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { KubeObject } from '../../lib/core/kube-object';
import { waitUntil } from './processes';
import { rig, RigEndpoints } from './rig-env';

export interface KubeApiProps {
  /** `https://127.0.0.1:<port>`. */
  readonly apiserverUrl: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Per-request timeout. @default 30000 */
  readonly requestTimeoutMs?: number;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** @default 'application/json' (when a body is given) */
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Accept these HTTP statuses instead of throwing. @default none */
  readonly allowStatus?: readonly number[];
}

export interface KubeResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** A non-2xx answer; `message` is the apiserver's Status message (e.g. an admission policy's text). */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    readonly statusMessage: string,
  ) {
    super(`${method} ${path}: HTTP ${status} ${reason}: ${statusMessage}`);
    this.name = 'KubeApiError';
  }
}

export interface WriteOptions {
  /** Server-side dry-run (`dryRun=All`): admission runs, nothing is stored. @default false */
  readonly dryRun?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** @default 'aks-secrets-store-rig' */
  readonly fieldManager?: string;
  /** Take ownership of conflicting fields. @default true */
  readonly force?: boolean;
}

interface ApiResource {
  readonly name: string;
  readonly namespaced: boolean;
  readonly kind: string;
}

export type Json = Record<string, unknown>;

const MAX_429_RETRIES = 20;

export class KubeApi {
  /** The rig's apiserver as its admin (only inside the rig jest project). */
  static forRig(): KubeApi {
    return KubeApi.forEndpoints(rig());
  }

  /** An apiserver of the rig (e.g. the node project's own) as its admin. */
  static forEndpoints(endpoints: RigEndpoints): KubeApi {
    return new KubeApi({
      apiserverUrl: endpoints.apiserverUrl,
      caPem: fs.readFileSync(endpoints.caFile, 'utf8'),
      clientCertPem: fs.readFileSync(endpoints.clientCertFile, 'utf8'),
      clientKeyPem: fs.readFileSync(endpoints.clientKeyFile, 'utf8'),
    });
  }

  private readonly agent: https.Agent;
  private readonly base: URL;
  private readonly discovery = new Map<string, Promise<ApiResource[]>>();

  constructor(private readonly props: KubeApiProps) {
    this.base = new URL(props.apiserverUrl);
    // An explicit CA: TLS verification stays on.
    this.agent = new https.Agent({
      ca: props.caPem,
      cert: props.clientCertPem,
      key: props.clientKeyPem,
      keepAlive: true,
      maxSockets: 8,
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  async request<T = Json>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<KubeResponse<T>> {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const payload =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    // Like client-go: 429 (e.g. "storage is (re)initializing" right after a CRD changed) is retried,
    // after Retry-After (capped at 2 s), a bounded number of times.
    let attempt = 0;
    let answer = await this.send(method, url, headers, payload);
    while (answer.status === 429 && attempt < MAX_429_RETRIES) {
      attempt += 1;
      const retryAfterSeconds = Number(answer.retryAfter ?? '1');
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(2000, Math.max(100, retryAfterSeconds * 1000))),
      );
      answer = await this.send(method, url, headers, payload);
    }
    const { status, text } = answer;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (e.g. /readyz): keep the text.
    }
    if ((status < 200 || status > 299) && !(options.allowStatus ?? []).includes(status)) {
      const statusBody = (typeof body === 'object' && body ? body : {}) as {
        reason?: string;
        message?: string;
      };
      throw new KubeApiError(
        method,
        url.pathname,
        status,
        statusBody.reason ?? '',
        statusBody.message ?? text,
      );
    }
    return { status, body: body as T };
  }

  private send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    payload: string | undefined,
  ): Promise<{ status: number; text: string; retryAfter?: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        { method, headers, agent: this.agent, timeout: this.props.requestTimeoutMs ?? 30000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              retryAfter: res.headers['retry-after'],
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${url.pathname}: no answer within the timeout`)),
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async get<T = Json>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
  }

  /** GET that answers undefined for 404. */
  async find<T = Json>(path: string): Promise<T | undefined> {
    const response = await this.request<T>('GET', path, { allowStatus: [404] });
    return response.status === 404 ? undefined : response.body;
  }

  async create<T = Json>(collectionPath: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    return (await this.request<T>('POST', collectionPath, { body, query: dryRunQuery(options) })).body;
  }

  /** JSON merge patch. */
  async patch<T = Json>(path: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    return (
      await this.request<T>('PATCH', path, {
        body,
        contentType: 'application/merge-patch+json',
        query: dryRunQuery(options),
      })
    ).body;
  }

  /** Deletes; a missing object is not an error. */
  async delete(path: string): Promise<void> {
    await this.request('DELETE', path, { allowStatus: [404] });
  }

  /** Server-side apply of a whole object. */
  async apply<T = Json>(object: KubeObject, options: ApplyOptions = {}): Promise<T> {
    const path = await this.objectPath(object);
    return (
      await this.request<T>('PATCH', path, {
        // JSON is valid YAML, so the object goes as is.
        body: JSON.stringify(object),
        contentType: 'application/apply-patch+yaml',
        query: {
          fieldManager: options.fieldManager ?? 'aks-secrets-store-rig',
          force: String(options.force ?? true),
          ...dryRunQuery(options),
        },
      })
    ).body;
  }

  /** The URL of an object, from discovery (plural name, namespaced or not). */
  async objectPath(object: KubeObject): Promise<string> {
    const resource = await this.resourceFor(object.apiVersion, object.kind);
    const prefix = object.apiVersion.includes('/')
      ? `/apis/${object.apiVersion}`
      : `/api/${object.apiVersion}`;
    const namespace = object.metadata.namespace;
    if (resource.namespaced && !namespace) {
      throw new Error(`${object.kind} ${object.metadata.name} is namespaced but has no metadata.namespace`);
    }
    const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? '')}` : '';
    return `${prefix}${scope}/${resource.name}/${encodeURIComponent(object.metadata.name)}`;
  }

  /** Forgets discovery results (after installing CRDs). */
  resetDiscovery(): void {
    this.discovery.clear();
  }

  private async resourceFor(apiVersion: string, kind: string): Promise<ApiResource> {
    const find = async (): Promise<ApiResource | undefined> => {
      let resources = this.discovery.get(apiVersion);
      if (!resources) {
        const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        resources = this.get<{ resources: ApiResource[] }>(path).then((list) => list.resources);
        this.discovery.set(apiVersion, resources);
        resources.catch(() => this.discovery.delete(apiVersion));
      }
      return (await resources).find((resource) => resource.kind === kind && !resource.name.includes('/'));
    };
    const found = (await find()) ?? (this.resetDiscovery(), await find());
    if (!found) throw new Error(`the apiserver serves no ${kind} in ${apiVersion}`);
    return found;
  }

  /** Polls `read` until `done(value)` holds, within a bounded time; returns the last value. */
  async waitFor<T>(
    what: string,
    read: () => Promise<T>,
    done: (value: T) => boolean,
    timeoutMs = 30000,
  ): Promise<T> {
    let last: T | undefined;
    await waitUntil(
      async () => {
        last = await read();
        return done(last);
      },
      { what, timeoutMs },
    );
    return last as T;
  }

  /** Waits until a CRD reports Established=True. */
  async waitForCrdEstablished(name: string, timeoutMs = 30000): Promise<void> {
    await this.waitFor(
      `CRD ${name} Established`,
      () =>
        this.find<{ status?: { conditions?: { type: string; status: string }[] } }>(
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        ),
      (crd) => !!crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
      timeoutMs,
    );
    this.resetDiscovery();
  }
}

function dryRunQuery(options: WriteOptions): Record<string, string> {
  return options.dryRun ? { dryRun: 'All' } : {};
}
