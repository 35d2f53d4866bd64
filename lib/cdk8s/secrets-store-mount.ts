import {
  checkSecretsStoreMountsApart,
  DEFAULT_SECRETS_STORE_MOUNT_PATH,
  SECRETS_STORE_CSI_DRIVER_NAME,
  SecretsStoreMount,
  validateSecretsStoreMountPath,
  ValidationError,
} from '../core';
import { Container, csiVolumeSource, Volume } from './plus';

// The read-only mount of a secrets store volume into one container.

/** Options for mounting the secrets store into a container. */
export interface SecretsStoreMountOptions {
  /**
   * Directory the objects appear in. Do not use subPath: rotated content does not reach subPath mounts.
   * @default '/mnt/secrets-store' (`SecretStore.wire` defaults to `/mnt/secrets-store/<store>`)
   */
  readonly path?: string;
}

/** The SecretProviderClass a volume mounts, when it is a secrets-store CSI volume. */
function secretsStoreOf(volume: Volume): string | undefined {
  const csi = csiVolumeSource(volume);
  return csi?.driver === SECRETS_STORE_CSI_DRIVER_NAME ? csi.attributes.secretProviderClass : undefined;
}

/**
 * Mounts the secrets store volume read-only into `container`. Throws naming both stores when another
 * secrets-store mount of the container has the same path or one lies inside the other (one would hide the
 * other's files, or the runtime cannot create a mount point inside a read-only volume).
 */
export function mountSecretsStore(
  container: Container,
  volume: Volume,
  opts: SecretsStoreMountOptions = {},
): void {
  const path = opts.path ?? DEFAULT_SECRETS_STORE_MOUNT_PATH;
  validateSecretsStoreMountPath(path, 'path');
  const store = secretsStoreOf(volume) ?? volume.name;
  const mounted: SecretsStoreMount[] = [];
  for (const mount of container.mounts) {
    const other = secretsStoreOf(mount.volume);
    if (other === undefined) continue;
    if (mount.volume.name === volume.name) {
      throw new ValidationError(
        'path',
        `store "${store}" is already mounted in container "${container.name}" at "${mount.path}"; mount a store once per container`,
      );
    }
    mounted.push({ store: other, path: mount.path });
  }
  checkSecretsStoreMountsApart([...mounted, { store, path }], 'path');
  container.mount(path, volume, { readOnly: true });
}
