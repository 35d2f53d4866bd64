// A fault-injecting proxy on loopback in front of the rig's real kube-apiserver: a client pointed at it
// (through the kubeconfig it writes) talks plain HTTP to the proxy, which forwards every request over
// TLS with the rig's admin client certificate, streaming watches, until a test sets a fault: the server
// down (connections refused, open ones cut), slow (each request held before it is forwarded), one HTTP
// status for every request (429 with Retry-After, 5xx), or 410 Gone for every watch (what the apiserver
// sends once a resourceVersion is compacted away). Every request is recorded, bounded, for assertions.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as path from 'node:path';

/** The requests a `slow` or `status` fault is limited to; the others pass untouched. */
export interface FaultScope {
  /** The request path contains this (e.g. `/secretproviderclasspodstatuses`). */
  readonly pathIncludes: string;
  /** Only these verbs (e.g. `['POST', 'PUT']`). @default every verb */
  readonly methods?: readonly string[];
}

/** What the proxy does to the next requests. */
export type ApiFault =
  | { readonly kind: 'none' }
  /** Connections refused; open ones (watches too) cut. */
  | { readonly kind: 'down' }
  /** Each request held this long before it is forwarded. */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly only?: FaultScope }
  /** Every request answered with this status (a Status body), with Retry-After when given. */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly retryAfterSeconds?: number;
      readonly only?: FaultScope;
    }
  /** Every watch answered with a 410 Expired ERROR event; other requests pass. */
  | { readonly kind: 'gone-on-watch' };

/** One request the proxy received. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly watch: boolean;
  /** 'fault' when the proxy answered it itself. */
  readonly answeredBy: 'apiserver' | 'fault';
  readonly at: number;
}

/** Where the real apiserver is and the credentials the proxy uses for it. */
export interface ApiserverFaultProxyProps {
  readonly apiserverUrl: string;
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** Requests kept for assertions; the oldest go first. */
const MAX_RECORDED = 20_000;

const STATUS_REASONS: Record<number, string> = {
  403: 'Forbidden',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function statusBody(code: number, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: STATUS_REASONS[code] ?? 'Unknown',
    code,
  });
}

export class ApiserverFaultProxy {
  static async start(props: ApiserverFaultProxyProps): Promise<ApiserverFaultProxy> {
    const proxy = new ApiserverFaultProxy(props);
    await proxy.listen(0);
    return proxy;
  }

  readonly requests: ProxiedRequest[] = [];
  private current: ApiFault = { kind: 'none' };
  private readonly target: URL;
  private readonly agent: https.Agent;
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly upstream = new Set<http.ClientRequest>();
  /** Watches the apiserver answered 200 and that are still open, by path. */
  private readonly openWatches = new Map<http.ClientRequest, string>();
  private port = 0;
  private listening = false;

  private constructor(props: ApiserverFaultProxyProps) {
    this.target = new URL(props.apiserverUrl);
    this.agent = new https.Agent({
      keepAlive: true,
      ca: fs.readFileSync(props.caFile),
      cert: fs.readFileSync(props.clientCertFile),
      key: fs.readFileSync(props.clientKeyFile),
    });
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** `http://127.0.0.1:<port>`, the same while the proxy is down. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get fault(): ApiFault {
    return this.current;
  }

  /** Sets the fault for every request from now on; `down` also cuts the open connections. */
  async setFault(fault: ApiFault): Promise<void> {
    this.current = fault;
    if (fault.kind === 'down') {
      await this.stopListening();
    } else if (!this.listening) {
      await this.listen(this.port);
    }
    if (fault.kind === 'gone-on-watch' || (fault.kind === 'status' && !fault.only)) this.cutConnections(); // watches re-open
  }

  /** A kubeconfig (in `dir`) whose server is this proxy; the proxy holds the credentials. */
  writeKubeconfig(dir: string): string {
    const file = path.join(dir, 'fault-proxy.kubeconfig');
    fs.writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'proxy', cluster: { server: this.url } }],
        users: [{ name: 'proxy', user: {} }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
        'current-context': 'proxy',
      }),
    );
    return file;
  }

  /**
   * True while a watch on a path containing `pathPart` is open through the proxy: a client's cache then
   * holds every object of that resource (its list came before, its events stream), which a test needs
   * before it takes the apiserver away.
   */
  hasOpenWatch(pathPart: string): boolean {
    return [...this.openWatches.values()].some((watched) => watched.includes(pathPart));
  }

  /** Requests received since `since` (ms epoch) that match. */
  received(since: number, match: (r: ProxiedRequest) => boolean = () => true): ProxiedRequest[] {
    return this.requests.filter((r) => r.at >= since && match(r));
  }

  async close(): Promise<void> {
    await this.stopListening();
    this.agent.destroy();
  }

  /** Refuses new connections and cuts the open ones (close() alone waits for keep-alive clients). */
  private async stopListening(): Promise<void> {
    const closed = this.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    this.listening = false;
    this.cutConnections();
    await closed;
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    this.listening = true;
  }

  private cutConnections(): void {
    for (const request of this.upstream) request.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const scope = 'only' in this.current ? this.current.only : undefined;
    const inScope =
      !scope ||
      (url.pathname.includes(scope.pathIncludes) &&
        (!scope.methods || scope.methods.includes(req.method ?? 'GET')));
    const fault: ApiFault = inScope ? this.current : { kind: 'none' };
    const answeredByFault =
      fault.kind === 'down' || fault.kind === 'status' || (fault.kind === 'gone-on-watch' && watch);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      watch,
      answeredBy: answeredByFault ? 'fault' : 'apiserver',
      at: Date.now(),
    });
    if (this.requests.length > MAX_RECORDED) this.requests.shift();

    if (fault.kind === 'down') {
      res.destroy();
      return;
    }
    if (fault.kind === 'status') {
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {}),
      });
      res.end(statusBody(fault.status, `injected by the fault proxy: ${fault.status}`));
      return;
    }
    if (fault.kind === 'gone-on-watch' && watch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: JSON.parse(statusBody(410, 'too old resource version: injected by the fault proxy')) })}\n`,
      );
      return;
    }
    const forward = () => {
      if (res.destroyed) return;
      const headers = { ...req.headers, host: this.target.host };
      const up = https.request(
        {
          protocol: 'https:',
          hostname: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.agent,
        },
        (upRes) => {
          if (watch && upRes.statusCode === 200) this.openWatches.set(up, url.pathname);
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      this.upstream.add(up);
      up.on('close', () => {
        this.upstream.delete(up);
        this.openWatches.delete(up);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => {
        if (!res.writableFinished) up.destroy(); // the client went away mid-answer (a watch it aborted)
      });
      req.pipe(up);
    };
    if (fault.kind === 'slow') setTimeout(forward, fault.delayMs);
    else forward();
  }
}
