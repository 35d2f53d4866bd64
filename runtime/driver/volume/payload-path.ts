// Validation of the relative file paths a provider returns in MountResponse.files. The whole response
// is rejected on the first bad path, before anything is written: a provider (or an SPC whose
// objectAlias a provider copies into a path) must never be able to write outside the volume or over the
// writer's own `..data` bookkeeping. Rules as upstream's writer, plus NUL bytes and file/dir clashes.
import * as path from 'node:path';

const MAX_PATH_LENGTH = 4096;
const MAX_ELEMENT_LENGTH = 255;

/** A provider returned a path the driver refuses to write; nothing has been written. */
export class PayloadPathError extends Error {
  constructor(
    public readonly payloadPath: string,
    reason: string,
  ) {
    super(`invalid file path ${JSON.stringify(payloadPath)} returned by the provider: ${reason}`);
    this.name = 'PayloadPathError';
  }
}

/** Go's filepath.Clean on POSIX, which upstream compares the path against. */
function goClean(p: string): string {
  const normalized = path.posix.normalize(p);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

/** Throws PayloadPathError unless `p` is a clean, relative path inside the volume. */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new PayloadPathError(p, 'the path is empty');
  if (p.includes('\0')) throw new PayloadPathError(p, 'the path contains a NUL byte');
  if (path.posix.isAbsolute(p))
    throw new PayloadPathError(p, 'the path is absolute; use a path relative to the volume');
  if (p.length > MAX_PATH_LENGTH)
    throw new PayloadPathError(p, `the path is longer than ${MAX_PATH_LENGTH} characters`);
  const elements = p.split('/');
  for (const element of elements) {
    if (element.length > MAX_ELEMENT_LENGTH) {
      throw new PayloadPathError(
        p,
        `the element ${JSON.stringify(element.slice(0, 40))}... is longer than ${MAX_ELEMENT_LENGTH} characters`,
      );
    }
    if (element === '..') throw new PayloadPathError(p, 'the path contains a ".." element');
  }
  if (elements[0].startsWith('..')) {
    throw new PayloadPathError(
      p,
      'the first element starts with "..", which is reserved for the writer (..data)',
    );
  }
  if (goClean(p) !== p)
    throw new PayloadPathError(p, `the path is not clean (it would be ${JSON.stringify(goClean(p))})`);
}

/**
 * Validates every path and the set as a whole: no duplicates, and no path that is both a file and the
 * directory of another file (`a` and `a/b`), which would otherwise fail half-way through a write.
 */
export function validatePayloadPaths(paths: readonly string[]): void {
  const seen = new Set<string>();
  for (const p of paths) {
    validatePayloadPath(p);
    if (seen.has(p)) throw new PayloadPathError(p, 'the path is returned more than once');
    seen.add(p);
  }
  for (const p of paths) {
    const elements = p.split('/');
    for (let i = 1; i < elements.length; i++) {
      const parent = elements.slice(0, i).join('/');
      if (seen.has(parent))
        throw new PayloadPathError(p, `its parent ${JSON.stringify(parent)} is also returned as a file`);
    }
  }
}
