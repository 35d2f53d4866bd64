import { validateSyncedSecretKey } from '../core';
import { atConstruct } from './construct-errors';
import { EnvValue, ISecret, Secret } from './plus';
import type { ISecretProviderClass } from './construct-contracts';

// Env vars read from a Kubernetes Secret that a SecretProviderClass syncs (secretObjects).

const sources = new WeakMap<EnvValue, ISecretProviderClass>();

/**
 * An env var value from a Secret that `spc` syncs (secretObjects). Throws when `spc` does not
 * declare that Secret and key (unless `spc` is imported without its secretObjects). The Secret
 * exists only while a pod mounts the SPC's volume.
 */
export function envFromSyncedSecret(spc: ISecretProviderClass, secretName: string, key: string): EnvValue {
  if (spc.secretObjects !== undefined) {
    const synced = spc.secretObjects;
    atConstruct(spc, () => validateSyncedSecretKey(synced, secretName, key, spc.name));
  }
  const id = `SyncedSecret-${secretName}`;
  const secret =
    (spc.node.tryFindChild(id) as ISecret | undefined) ?? Secret.fromSecretName(spc, id, secretName);
  const value = EnvValue.fromSecretValue({ secret, key });
  sources.set(value, spc);
  return value;
}

/** The SecretProviderClass whose synced Secret `value` reads, if it came from envFromSyncedSecret. */
export function syncedSecretSource(value: EnvValue): ISecretProviderClass | undefined {
  return sources.get(value);
}
