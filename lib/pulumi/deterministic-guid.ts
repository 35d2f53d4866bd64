import { createHash } from 'crypto';

// Azure role assignment names must be GUIDs ("It can be any valid GUID"). A name derived from
// (scope, principal, role) keeps the assignment stable across re-creation and turns a repeated
// `pulumi up` into a no-op instead of a `RoleAssignmentExists` conflict, as Bicep's guid() does.

/** The RFC 4122 URL namespace. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** RFC 4122 version-5 (SHA-1, name-based) UUID of `name` in `namespace`. */
export function uuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(namespaceBytes).update(Buffer.from(name, 'utf8')).digest();
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Our own namespace, so our names never collide with other tools' v5 names of the same text. */
const ROLE_ASSIGNMENT_NAMESPACE = uuidV5(
  URL_NAMESPACE,
  'https://github.com/aks-secrets-store/role-assignment',
);

/**
 * Deterministic GUID for a role assignment. ARM ids are case-insensitive, so the parts are
 * lower-cased: the same (scope, principal, role) always yields the same name.
 */
export function roleAssignmentGuid(scope: string, principalId: string, roleDefinitionId: string): string {
  return uuidV5(
    ROLE_ASSIGNMENT_NAMESPACE,
    [scope, principalId, roleDefinitionId].map((p) => p.toLowerCase()).join('|'),
  );
}
