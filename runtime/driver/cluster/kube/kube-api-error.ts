/**
 * An error answered by the Kubernetes API server (or a transport failure talking to it). Carries the HTTP
 * status code and the `metav1.Status` reason (`NotFound`, `AlreadyExists`, `Conflict`, `Gone`, ...) so
 * callers branch on facts, not on message text. The message never contains a request body (a Secret's
 * data) or a bearer token: only the verb, the path and the server's own status message.
 */
export class KubeApiError extends Error {
  /** HTTP status code; 0 for a transport failure (connection refused, TLS error, timeout). */
  public readonly statusCode: number;
  /** `metav1.Status.reason`, e.g. `NotFound`; `Unknown` when the server gave none. */
  public readonly reason: string;
  /** HTTP verb of the failed request. */
  public readonly verb: string;
  /** Request path (without the query string). */
  public readonly path: string;
  /** The server's `Retry-After` in seconds (429 and some 5xx answers); undefined when it sent none. */
  public readonly retryAfterSeconds?: number;

  constructor(
    verb: string,
    path: string,
    statusCode: number,
    reason: string,
    serverMessage: string,
    retryAfterSeconds?: number,
  ) {
    super(
      `kubernetes ${verb} ${path}: ${statusCode === 0 ? 'transport error' : statusCode} ${reason}: ${serverMessage}`,
    );
    this.name = 'KubeApiError';
    this.verb = verb;
    this.path = path;
    this.statusCode = statusCode;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** True for a 404 answer (the object or the resource type does not exist). */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

/** True for a 409 `AlreadyExists` answer to a create. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason === 'AlreadyExists';
}

/** True for a 409 `Conflict` answer (stale resourceVersion on update). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason !== 'AlreadyExists';
}

/** True for a 403 answer (RBAC denies the verb). */
export function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 403;
}

/** True for 410 Gone (a watch or list resourceVersion too old: re-list). */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 410;
}

/** True for a 429 answer (API priority and fairness, or max-in-flight): wait `retryAfterSeconds`. */
export function isTooManyRequests(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 429;
}

/**
 * True when the API server could not answer at all or said it is overloaded or failing (transport error,
 * 429, 5xx): a retry later may succeed, nothing is wrong with the request itself.
 */
export function isApiUnavailable(err: unknown): boolean {
  return (
    err instanceof KubeApiError && (err.statusCode === 0 || err.statusCode === 429 || err.statusCode >= 500)
  );
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
