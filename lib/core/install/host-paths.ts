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

/** Throws unless `path` is an absolute Windows host path (`C:\...`) without ".." or "/". */
export function validateWindowsHostPath(path: string, field: string): void {
  if (!/^[A-Za-z]:\\/.test(path) || path.includes('/') || path.split('\\').includes('..')) {
    throw new ValidationError(
      field,
      `"${path}" must be an absolute Windows host path with backslashes and without "..", e.g. "C:\\var\\lib\\kubelet"`,
    );
  }
}

/** `C:\var\lib\kubelet\` → `C:\var\lib\kubelet`; `C:\` stays. */
export function stripTrailingBackslash(path: string): string {
  return path.length > 3 ? path.replace(/\\+$/, '') : path;
}
