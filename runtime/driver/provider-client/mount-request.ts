// Phase 3 of NodePublishVolume, its request: the v1alpha1 MountRequest built exactly as upstream's Go
// driver builds it. The JSON strings have their keys sorted (Go marshals maps in key order), `<`, `>`, `&`,
// U+2028 and U+2029 escaped, and a missing secrets map as `null`; the permission is "420".
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../wire/csi';
import { DEFAULT_PERMISSION, MountRequest } from '../../wire/provider-v1alpha1';

/** What a MountRequest is made of. */
export interface MountRequestProps {
  /** The SecretProviderClass `spec.parameters` (non-empty). */
  readonly parameters: Record<string, string>;
  readonly volumeContext: Record<string, string>;
  /** NodePublishVolumeRequest.secrets. */
  readonly secrets: Record<string, string>;
  readonly targetPath: string;
}

/** Upstream v1.6's MountRequest: no current object versions (reference §1.1). */
export function buildMountRequest(props: MountRequestProps): MountRequest {
  return {
    attributes: goJsonOfStringMap(buildMountAttributes(props.parameters, props.volumeContext, props.secrets)),
    secrets: encodeMountSecrets(props.secrets),
    target_path: props.targetPath,
    permission: DEFAULT_PERMISSION,
    current_object_version: [],
  };
}

/** Go's json.Marshal of a map[string]string (nil map → `null`). */
export function goJsonOfStringMap(map: Record<string, string> | undefined): string {
  if (map === undefined) return 'null';
  const keys = Object.keys(map).sort();
  const body = keys.map((k) => `${goJsonString(k)}:${goJsonString(map[k])}`).join(',');
  return `{${body}}`;
}

/** A JSON string with Go's HTML-safe escaping. */
export function goJsonString(text: string): string {
  return JSON.stringify(text)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Upstream's attributes: the SPC parameters, then every volume_context key over them, then the
 * service-account tokens (from `secrets` first — KEP-5538 — then from the volume context).
 */
export function buildMountAttributes(
  spcParameters: Record<string, string>,
  volumeContext: Record<string, string>,
  secrets: Record<string, string>,
): Record<string, string> {
  const attributes: Record<string, string> = { ...spcParameters, ...volumeContext };
  const tokens = secrets[SERVICE_ACCOUNT_TOKENS_KEY] || volumeContext[SERVICE_ACCOUNT_TOKENS_KEY];
  if (tokens) attributes[SERVICE_ACCOUNT_TOKENS_KEY] = tokens;
  return attributes;
}

/** MountRequest.secrets: the nodePublishSecretRef data; an empty map is Go's nil map, `null`. */
export function encodeMountSecrets(secrets: Record<string, string>): string {
  return Object.keys(secrets).length === 0 ? 'null' : goJsonOfStringMap(secrets);
}
