// One HTTPS request with a bounded body, over a caller's connection pool: the only transport of the
// provider's Key Vault and Entra ID clients. It is the part of @azure/core-rest-pipeline the provider
// used (one request, its status, headers and body), without a policy pipeline per client: a Mount's
// calls allocate a request and a response, nothing more (bench/provider, issue 14).
import * as http from 'node:http';
import * as https from 'node:https';

/** A request. */
export interface HttpsRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Request body (form or JSON text). */
  readonly body?: string;
  /** Connection pool (per vault host, or the identity endpoints'). @default Node's global agent */
  readonly agent?: http.Agent;
  /** Cancels the request; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Largest response body read; a longer one fails. */
  readonly maxBodyBytes: number;
}

/** A response whose body was read whole. */
export interface HttpsResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A request that got no HTTP answer (connection refused, reset, TLS, DNS): `code` is Node's. */
export class HttpsTransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'HttpsTransportError';
  }
}

/** The request's answer, whatever its status; rejects only when there is none (or it is too large). */
export function httpsRequest(request: HttpsRequest): Promise<HttpsResponse> {
  return new Promise<HttpsResponse>((resolve, reject) => {
    const { signal } = request;
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const transport = request.url.protocol === 'http:' ? http : https;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(error);
    };
    const onAbort = () => fail(abortError(signal!));
    const req = transport.request(
      request.url,
      { method: request.method, headers, agent: request.agent },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > request.maxBodyBytes) {
            fail(
              new HttpsTransportError(
                `the response of ${request.url.host} is larger than ${request.maxBodyBytes} bytes`,
                'RESPONSE_TOO_LARGE',
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (error: NodeJS.ErrnoException) => fail(transportError(error)));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => fail(transportError(error)));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(request.body);
  });
}

function transportError(error: NodeJS.ErrnoException): HttpsTransportError {
  return new HttpsTransportError(error.message, error.code);
}

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const error = new Error('The operation was aborted.');
  error.name = 'AbortError';
  return error;
}

/** The first value of a response header. */
export function headerValue(response: HttpsResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
