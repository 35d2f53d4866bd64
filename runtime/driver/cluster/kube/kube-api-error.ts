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

  constructor(verb: string, path: string, statusCode: number, reason: string, serverMessage: string) {
    super(
      `kubernetes ${verb} ${path}: ${statusCode === 0 ? 'transport error' : statusCode} ${reason}: ${serverMessage}`,
    );
    this.name = 'KubeApiError';
    this.verb = verb;
    this.path = path;
    this.statusCode = statusCode;
    this.reason = reason;
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
