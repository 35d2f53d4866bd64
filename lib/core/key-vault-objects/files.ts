import { posix } from 'path';
import { KeyVaultObject, KeyVaultObjectType } from './types';

// Which files an object can produce in the mount (azure-provider §2.3, §2.7, §2.8):
// - single version: `<alias-or-name>`;
// - a secret may also produce `<name>.crt` and `<name>.key` when the provider runs with
//   --write-cert-and-key-in-separate-files (we cannot know at synth time, so collision checks
//   assume it may; a synced Secret never relies on it);
// - history mode (objectVersionHistory > 1): a directory `<alias-or-name>/` holding `0`, `1`, ...

/** The file name the provider uses for an object. */
export function objectFileName(object: KeyVaultObject): string {
  return object.objectAlias ?? object.objectName;
}

/** True when the provider writes a directory of versions for this object. */
export function isHistoryMode(object: KeyVaultObject): boolean {
  return (object.objectVersionHistory ?? 0) > 1;
}

/** A path an object occupies in the mount: a file, or a whole directory (history mode). */
export interface MountClaim {
  readonly path: string;
  readonly directory: boolean;
  /** True for the `.crt`/`.key` files a secret produces only when the provider splits them. */
  readonly split?: boolean;
}

function normalize(path: string): string {
  return posix.normalize(path).replace(/\/+$/, '');
}

/** Every path an object may occupy, for collision checks. */
export function mountClaims(object: KeyVaultObject): MountClaim[] {
  const base = normalize(objectFileName(object));
  if (isHistoryMode(object)) return [{ path: base, directory: true }];
  const claims: MountClaim[] = [{ path: base, directory: false }];
  if (object.objectType === KeyVaultObjectType.SECRET) {
    claims.push(
      { path: `${base}.crt`, directory: false, split: true },
      { path: `${base}.key`, directory: false, split: true },
    );
  }
  return claims;
}

/** True when two claims cannot coexist: same path, or one needs to be a directory of the other. */
export function claimsOverlap(a: MountClaim, b: MountClaim): boolean {
  return a.path === b.path || a.path.startsWith(`${b.path}/`) || b.path.startsWith(`${a.path}/`);
}

/**
 * The files an object mounts, which `secretObjects[].data[].objectName` can name: its alias-or-name,
 * or `<alias-or-name>/<i>` in history mode. The `.crt`/`.key` split needs a provider flag that our
 * install never sets (upstream's default is off too), so it is no file a synced Secret can rely on.
 */
export function mountedFileNames(object: KeyVaultObject): string[] {
  const base = objectFileName(object);
  if (isHistoryMode(object)) {
    return Array.from({ length: object.objectVersionHistory! }, (_, i) => `${base}/${i}`);
  }
  return [base];
}
