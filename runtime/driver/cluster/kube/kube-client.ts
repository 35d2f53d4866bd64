// A minimal Kubernetes REST client on node:https.
//
// Why not @kubernetes/client-node: loading it alone adds about 65-85 MB of RSS (1.3.0 on Node 20,
// 2.0.1 on Node 24), and the driver's target is <= 100 MiB RSS with 110 mounted volumes. The driver
// needs a handful of verbs on six kinds, a watch and Events; this file is that, on one keep-alive agent.
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as tls from 'tls';
import { KubeConfig } from './kube-config';
import { KubeApiError, parseRetryAfter } from './kube-api-error';
import { KubeResource, resourcePath } from './kube-resources';
import type { KubeList, KubeResourceObject, WatchEvent } from './kube-types';

/** Options of {@link KubeClient}. */
export interface KubeClientProps {
  /** User-Agent header (shows in audit logs). @default 'aks-secrets-store' */
  readonly userAgent?: string;
  /** Timeout of one non-watch request. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** A token file is re-read when the cached value is older than this (client-go uses one minute). @default 60000 */
  readonly tokenRefreshMs?: number;
  /** Upper bound of concurrent sockets to the API server (watches hold one each). @default 64 */
  readonly maxSockets?: number;
}

/** Selectors shared by list and watch. */
export interface ListOptions {
  /** Namespace; omit for all namespaces. @default all namespaces */
  readonly namespace?: string;
  /** e.g. `secrets-store.csi.k8s.io/managed=true`. @default none */
  readonly labelSelector?: string;
  /** e.g. `spec.nodeName=node-1`. @default none */
  readonly fieldSelector?: string;
  /** resourceVersion semantics of the API (list: `0` = from the watch cache). @default most recent */
  readonly resourceVersion?: string;
  /** Page size; pages are followed until the end. @default 500 */
  readonly limit?: number;
  /**
   * Ask for metadata only (`PartialObjectMetadata`): the server sends no `data`/`spec`/`status`, so a
   * list or watch of Secrets never carries their values. @default false
   */
  readonly metadataOnly?: boolean;
}

/** Options of a watch. */
export interface WatchOptions extends ListOptions {
  /** Server-side timeout of this watch; the caller re-watches after it. @default 300 */
  readonly timeoutSeconds?: number;
  /** Ask for BOOKMARK events (resourceVersion progress without objects). @default true */
  readonly allowWatchBookmarks?: boolean;
}

/** A running watch. */
export interface WatchHandle {
  /** Resolves when the server ends the stream; rejects on a transport or HTTP error (status + reason). */
  readonly done: Promise<void>;
  /** Ends the stream; `done` then resolves. */
  abort(): void;
}

/** Patch flavours the API server accepts. */
export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Options of a patch. */
export interface PatchOptions {
  /** Namespace of a namespaced kind. @default none (cluster-scoped) */
  readonly namespace?: string;
  /** @default 'merge' */
  readonly type?: PatchType;
  /** Field manager; required by the API for `apply`. @default 'aks-secrets-store' */
  readonly fieldManager?: string;
  /** Server-side apply: take ownership of conflicting fields. @default false */
  readonly force?: boolean;
}

/** Options of a delete. */
export interface DeleteOptions {
  /** Namespace of a namespaced kind. @default none */
  readonly namespace?: string;
  /** `Foreground`, `Background` or `Orphan`. @default the kind's default */
  readonly propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Only delete this exact object (guards against deleting a re-created one). @default none */
  readonly preconditions?: { uid?: string; resourceVersion?: string };
  /** 0 deletes a pod bound to a node at once, without waiting for its kubelet. @default the object's */
  readonly gracePeriodSeconds?: number;
}

interface RequestSpec {
  readonly verb: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  readonly contentType?: string;
  /** Accept header. @default 'application/json' */
  readonly accept?: string;
}

/** Accept headers that make the API server answer with metadata only (client-go's metadata client). */
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** Typed verbs against one API server; one instance per process shares its keep-alive sockets. */
export class KubeClient {
  /** The configuration this client talks with (server URL, namespace). */
  public readonly config: KubeConfig;
  private readonly agent: http.Agent;
  private readonly transport: typeof https | typeof http;
  private readonly url: URL;
  private readonly userAgent: string;
  private readonly requestTimeoutMs: number;
  private readonly tokenRefreshMs: number;
  private cachedToken?: { value: string; readAt: number };

  constructor(config: KubeConfig, props: KubeClientProps = {}) {
    this.config = config;
    this.url = new URL(config.server);
    this.userAgent = props.userAgent ?? 'aks-secrets-store';
    this.requestTimeoutMs = props.requestTimeoutMs ?? 30_000;
    this.tokenRefreshMs = props.tokenRefreshMs ?? 60_000;
    const maxSockets = props.maxSockets ?? 64;
    if (this.url.protocol === 'https:') {
      this.transport = https;
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets,
        maxFreeSockets: 4,
        ...tlsOptions(config),
        rejectUnauthorized: !config.insecureSkipTlsVerify,
      });
    } else {
      this.transport = http;
      this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: 4 });
    }
  }

  /** GET one object. Throws KubeApiError (404 NotFound when absent). */
  get<T extends KubeResourceObject>(resource: KubeResource, name: string, namespace?: string): Promise<T> {
    return this.request<T>({ verb: 'GET', path: resourcePath(resource, namespace, name) });
  }

  /** LIST, following `continue` pages; the result's resourceVersion is that of the first page. */
  async list<T extends KubeResourceObject>(
    resource: KubeResource,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    // Bounded: an API server never hands out more than this many pages for the driver's kinds.
    for (let page = 0; page < 10_000; page++) {
      const answer: KubeList<T> = await this.request<KubeList<T>>({
        verb: 'GET',
        path: resourcePath(resource, options.namespace),
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          resourceVersion: continueToken ? undefined : options.resourceVersion,
          limit: options.limit ?? 500,
          continue: continueToken,
        },
        accept: options.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
      });
      for (const item of answer.items ?? []) {
        // List items carry no apiVersion/kind; fill them in so callers can build owner references.
        items.push({ apiVersion: resource.apiVersion, kind: resource.kind, ...item });
      }
      resourceVersion ??= answer.metadata?.resourceVersion;
      continueToken = answer.metadata?.continue || undefined;
      if (!continueToken) break;
    }
    return { metadata: { resourceVersion }, items };
  }

  /** POST a new object (namespace from `metadata.namespace` or `namespace`). 409 AlreadyExists if taken. */
  create<T extends KubeResourceObject>(resource: KubeResource, object: T, namespace?: string): Promise<T> {
    const ns = namespace ?? object.metadata.namespace;
    return this.request<T>({
      verb: 'POST',
      path: resourcePath(resource, ns),
      body: { apiVersion: resource.apiVersion, kind: resource.kind, ...object },
    });
  }

  /** PUT a whole object. With `metadata.resourceVersion` set, a stale write answers 409 Conflict. */
  update<T extends KubeResourceObject>(resource: KubeResource, object: T): Promise<T> {
    const name = object.metadata.name ?? '';
    return this.request<T>({
      verb: 'PUT',
      path: resourcePath(resource, object.metadata.namespace, name),
      body: { apiVersion: resource.apiVersion, kind: resource.kind, ...object },
    });
  }

  /** PATCH (merge by default; `apply` = server-side apply with a field manager). */
  patch<T extends KubeResourceObject>(
    resource: KubeResource,
    name: string,
    patch: unknown,
    options: PatchOptions = {},
  ): Promise<T> {
    const type = options.type ?? 'merge';
    const isApply = type === 'apply';
    return this.request<T>({
      verb: 'PATCH',
      path: resourcePath(resource, options.namespace, name),
      // The API server accepts JSON for apply-patch+yaml (YAML is a superset of JSON).
      body: isApply ? { apiVersion: resource.apiVersion, kind: resource.kind, ...(patch as object) } : patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: {
        fieldManager:
          isApply || options.fieldManager ? (options.fieldManager ?? 'aks-secrets-store') : undefined,
        force: isApply && options.force ? true : undefined,
      },
    });
  }

  /** DELETE one object. Throws 404 NotFound when already gone (use `isNotFound` to treat as done). */
  async delete(resource: KubeResource, name: string, options: DeleteOptions = {}): Promise<void> {
    const body =
      options.propagationPolicy || options.preconditions || options.gracePeriodSeconds !== undefined
        ? {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: options.propagationPolicy,
            preconditions: options.preconditions,
            gracePeriodSeconds: options.gracePeriodSeconds,
          }
        : undefined;
    await this.request({ verb: 'DELETE', path: resourcePath(resource, options.namespace, name), body });
  }

  /**
   * Starts a watch; `onEvent` gets each event in order (including BOOKMARK, and ERROR whose object is a
   * `metav1.Status`, e.g. code 410 when the resourceVersion is too old: re-list then).
   */
  watch<T extends KubeResourceObject>(
    resource: KubeResource,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): WatchHandle {
    const timeoutSeconds = options.timeoutSeconds ?? 300;
    const spec: RequestSpec = {
      verb: 'GET',
      path: resourcePath(resource, options.namespace),
      query: {
        watch: true,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        timeoutSeconds,
      },
      accept: options.metadataOnly ? METADATA_WATCH_ACCEPT : undefined,
    };
    let request: http.ClientRequest | undefined;
    let aborted = false;
    const done = new Promise<void>((resolve, reject) => {
      request = this.send(spec, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          collect(res)
            .then((body) => reject(this.errorFrom(spec, res.statusCode ?? 0, body, res.headers)))
            .catch(reject);
          return;
        }
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (!line) continue;
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(line) as WatchEvent<T>;
            } catch {
              request?.destroy();
              reject(new KubeApiError(spec.verb, spec.path, 0, 'BadWatchEvent', 'a watch line was not JSON'));
              return;
            }
            if (event.object && event.type !== 'ERROR' && event.type !== 'BOOKMARK') {
              event.object = { apiVersion: resource.apiVersion, kind: resource.kind, ...event.object };
            }
            onEvent(event);
          }
        });
        res.on('end', () => resolve());
        res.on('close', () => resolve());
        res.on('error', (err) => (aborted ? resolve() : reject(this.transportError(spec, err))));
      });
      request.on('error', (err) => (aborted ? resolve() : reject(this.transportError(spec, err))));
      // A silent stream (no bytes for longer than the server-side timeout plus slack) is a dead connection.
      request.setTimeout((timeoutSeconds + 30) * 1000, () =>
        request?.destroy(new Error('watch idle timeout')),
      );
    });
    return {
      done,
      abort: () => {
        aborted = true;
        request?.destroy();
      },
    };
  }

  /** One request with a JSON answer; 401 with a token file re-reads the token and retries once. */
  async request<T>(spec: RequestSpec): Promise<T> {
    return this.answer<T>(spec, await this.exchangeAuthenticated(spec));
  }

  /** GET a text answer, e.g. a pod's /metrics through the API server's proxy. Throws KubeApiError. */
  async getText(path: string): Promise<string> {
    const spec: RequestSpec = { verb: 'GET', path };
    const { status, body, headers } = await this.exchangeAuthenticated(spec);
    if (status >= 200 && status < 300) return body;
    throw this.errorFrom(spec, status, body, headers);
  }

  /** Closes idle keep-alive sockets; in-flight requests and watches are destroyed too. */
  close(): void {
    this.agent.destroy();
  }

  private answer<T>(spec: RequestSpec, exchanged: Exchange): T {
    const { status, body } = exchanged;
    if (status >= 200 && status < 300) return (body ? JSON.parse(body) : {}) as T;
    throw this.errorFrom(spec, status, body, exchanged.headers);
  }

  /** One exchange; 401 with a token file re-reads the token and tries once more. */
  private async exchangeAuthenticated(spec: RequestSpec): Promise<Exchange> {
    const first = await this.exchange(spec);
    if (first.status !== 401 || !this.config.tokenFile) return first;
    this.cachedToken = undefined; // the projected token rotated under us
    return this.exchange(spec);
  }

  private exchange(spec: RequestSpec): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const req = this.send(spec, (res) => {
        collect(res)
          .then((body) => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
          .catch((err: Error) => reject(this.transportError(spec, err)));
      });
      req.setTimeout(this.requestTimeoutMs, () =>
        req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)),
      );
      req.on('error', (err) => reject(this.transportError(spec, err)));
    });
  }

  private send(spec: RequestSpec, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== '') query.set(key, String(value));
    }
    const qs = query.toString();
    const basePath = this.url.pathname.replace(/\/+$/, '');
    const headers: http.OutgoingHttpHeaders = {
      Accept: spec.accept ?? 'application/json',
      'User-Agent': this.userAgent,
    };
    const token = this.bearerToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: Buffer | undefined;
    if (spec.body !== undefined) {
      payload = Buffer.from(JSON.stringify(spec.body));
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const req = this.transport.request(
      {
        protocol: this.url.protocol,
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port || (this.url.protocol === 'https:' ? 443 : 80),
        method: spec.verb,
        path: `${basePath}${spec.path}${qs ? `?${qs}` : ''}`,
        headers,
        agent: this.agent,
      },
      onResponse,
    );
    req.end(payload);
    return req;
  }

  private bearerToken(): string | undefined {
    if (this.config.token) return this.config.token;
    if (!this.config.tokenFile) return undefined;
    const now = Date.now();
    if (!this.cachedToken || now - this.cachedToken.readAt > this.tokenRefreshMs) {
      this.cachedToken = { value: fs.readFileSync(this.config.tokenFile, 'utf8').trim(), readAt: now };
    }
    return this.cachedToken.value;
  }

  private errorFrom(
    spec: RequestSpec,
    status: number,
    body: string,
    headers: http.IncomingHttpHeaders,
  ): KubeApiError {
    let reason = 'Unknown';
    let message = body.slice(0, 300);
    try {
      const parsed = JSON.parse(body) as { reason?: string; message?: string };
      reason = parsed.reason || reason;
      message = parsed.message ?? message;
    } catch {
      // not a metav1.Status (e.g. a proxy's HTML): keep the first bytes of the text
    }
    if (status === 410 && reason === 'Unknown') reason = 'Expired';
    return new KubeApiError(
      spec.verb,
      spec.path,
      status,
      reason,
      message,
      parseRetryAfter(headers['retry-after']),
    );
  }

  private transportError(spec: RequestSpec, err: Error): KubeApiError {
    return new KubeApiError(spec.verb, spec.path, 0, 'TransportError', `${this.url.host}: ${err.message}`);
  }
}

/**
 * One TLS context for every connection. Given as ca/cert/key agent options, the three PEM buffers become
 * text in the agent's socket-pool key on every request (0.15-0.35 ms CPU per request on Node 24). Without
 * `ca` the context trusts Node's default roots, as the options did. PEM that Node refuses stays an option,
 * so each request fails with Node's error as before instead of the client's constructor throwing.
 */
function tlsOptions(config: KubeConfig): https.AgentOptions {
  const pem = { ca: config.ca, cert: config.clientCert, key: config.clientKey };
  try {
    return { secureContext: tls.createSecureContext(pem) };
  } catch {
    return pem;
  }
}

/** A response read whole. */
interface Exchange {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

function collect(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
