import { secretsStoreVolumeName, SECRETS_STORE_CSI_DRIVER_NAME, validateDns1123Label } from '../core';
import { atConstruct } from './construct-errors';
import { readOnlyCsiVolume, Volume } from './plus';
import type { ISecretProviderClass } from './construct-contracts';

// The CSI inline volume that mounts a SecretProviderClass.

/** Options of the Secrets Store CSI volume. */
export interface SecretsStoreVolumeOptions {
  /**
   * Volume name in the pod spec.
   * @default - "secrets-store-<spc name>"
   */
  readonly name?: string;
}

/** Factory for the CSI inline volume that mounts a SecretProviderClass. */
export class SecretsStoreVolume {
  /**
   * A read-only `secrets-store.csi.k8s.io` volume for `spc`; in service principal mode it carries
   * the `nodePublishSecretRef` the provider needs. Calling it again with the same name returns the
   * same volume, so several workloads can share it.
   */
  public static fromSecretProviderClass(
    spc: ISecretProviderClass,
    opts: SecretsStoreVolumeOptions = {},
  ): Volume {
    const name = opts.name ?? secretsStoreVolumeName(spc.name);
    atConstruct(spc, () => validateDns1123Label(name, 'name', 'volume name'));
    const id = `Volume-${name}`;
    const existing = spc.node.tryFindChild(id);
    if (existing) return existing as Volume;
    return readOnlyCsiVolume(spc, id, {
      name,
      driver: SECRETS_STORE_CSI_DRIVER_NAME,
      attributes: { secretProviderClass: spc.name },
      nodePublishSecretName: spc.nodePublishSecretName,
    });
  }

  private constructor() {}
}
