import { ValidationError } from '../validation/validation-error';

// Host directories the install mounts into its DaemonSets (kubelet root, provider sockets).

/** Throws unless `path` is an absolute Linux host path without ".." or white space. */
export function validateHostPath(path: string, field: string): void {
  if (!path.startsWith('/') || path.split('/').includes('..') || /\s/.test(path)) {
    throw new ValidationError(
      field,
      `"${path}" must be an absolute host path without ".." or spaces, e.g. "/var/lib/kubelet"`,
    );
  }
}

/** `/var/lib/kubelet/` → `/var/lib/kubelet`; `/` stays. */
export function stripTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

// Characters Windows forbids in a path segment, plus `$` (kubelet expands `$(VAR)` in args) and `,`
// (the driver splits its provider dir lists on it).
// eslint-disable-next-line no-control-regex
const WINDOWS_PATH_FORBIDDEN = /[\x00-\x1f<>:"/|?*$,]/;

/** Throws unless `path` is an absolute Windows host path (`C:\...`) without "..", "/" or characters Windows forbids. */
export function validateWindowsHostPath(path: string, field: string): void {
  if (
    !/^[A-Za-z]:\\/.test(path) ||
    WINDOWS_PATH_FORBIDDEN.test(path.slice(2)) ||
    path.split('\\').includes('..')
  ) {
    throw new ValidationError(
      field,
      `"${path}" must be an absolute Windows host path with backslashes, without ".." and without any of <>:"/|?*$, or control characters, e.g. "C:\\var\\lib\\kubelet"`,
    );
  }
}

/** `C:\var\lib\kubelet\` → `C:\var\lib\kubelet`; `C:\` stays. */
export function stripTrailingBackslash(path: string): string {
  return path.length > 3 ? path.replace(/\\+$/, '') : path;
}
