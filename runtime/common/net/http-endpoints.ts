// The small HTTP side of each runtime process: Prometheus `/metrics` (prom-client registry) and a
// `/healthz` hook that runs a real check (for the provider: a gRPC call over its own socket).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Options of the HTTP endpoint server. */
export interface HttpEndpointsProps {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  /** Listen address. @default all interfaces ('::' / '0.0.0.0'), as upstream */
  readonly host?: string;
  /** Registry served at `metricsPath`; no metrics route when absent. @default undefined */
  readonly registry?: Registry;
  /** Path of the metrics route. @default '/metrics' */
  readonly metricsPath?: string;
  /** Health check: resolves when healthy, rejects with the reason otherwise. No health route when absent. @default undefined */
  readonly healthz?: () => Promise<void>;
  /** Path of the health route. @default '/healthz' */
  readonly healthzPath?: string;
}

export interface HttpEndpoints {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpEndpoints(props: HttpEndpointsProps): Promise<HttpEndpoints> {
  const metricsPath = props.metricsPath ?? '/metrics';
  const healthzPath = props.healthzPath ?? '/healthz';
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (props.registry && url === metricsPath) {
      props.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': props.registry!.contentType }).end(text),
        (err: unknown) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (props.healthz && url === healthzPath) {
      props.healthz().then(
        () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
        (err: unknown) =>
          res
            .writeHead(503, { 'content-type': 'text/plain' })
            .end(err instanceof Error ? err.message : String(err)),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(props.port, props.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
