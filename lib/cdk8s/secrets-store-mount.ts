import { DEFAULT_SECRETS_STORE_MOUNT_PATH, validateSecretsStoreMountPath } from '../core';
import { Container, Volume } from './plus';

// The read-only mount of a secrets store volume into one container.

/** Options for mounting the secrets store into a container. */
export interface SecretsStoreMountOptions {
  /**
   * Directory the objects appear in. Do not use subPath: rotated content does not reach subPath mounts.
   * @default '/mnt/secrets-store'
   */
  readonly path?: string;
}

/** Mounts the secrets store volume read-only into `container`. */
export function mountSecretsStore(
  container: Container,
  volume: Volume,
  opts: SecretsStoreMountOptions = {},
): void {
  const path = opts.path ?? DEFAULT_SECRETS_STORE_MOUNT_PATH;
  validateSecretsStoreMountPath(path, 'path');
  container.mount(path, volume, { readOnly: true });
}
