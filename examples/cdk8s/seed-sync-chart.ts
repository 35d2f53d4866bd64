import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { KeyVaultIdentityProps, KeyVaultObjectType, SecretType } from 'aks-secrets-store';
import {
  envFromSyncedSecret,
  mountSecretsStore,
  SecretProviderClass,
  SecretsStoreVolume,
} from 'aks-secrets-store/cdk8s';
import { Pod } from 'cdk8s-plus-33';

export interface SeedSyncChartProps {
  readonly namespace: string;
  readonly keyVaultName: string;
  readonly identity: KeyVaultIdentityProps;
}

/**
 * The seed's "Sync mounted content with a Kubernetes secret" and "Set an environment variable"
 * sections, as written there: SPC `azure-sync` syncs object `foo1` into Secret `foosecret` key
 * `username`, and pod `busybox-secrets-store-inline` mounts the volume read-only and reads
 * SECRET_USERNAME from the synced Secret.
 */
export class SeedSyncChart extends Chart {
  constructor(scope: Construct, id: string, props: SeedSyncChartProps) {
    super(scope, id, { namespace: props.namespace });

    const spc = new SecretProviderClass(this, 'azure-sync', {
      ...props.identity,
      keyVaultName: props.keyVaultName,
      objects: [{ objectName: 'foo1', objectType: KeyVaultObjectType.SECRET }],
      secretObjects: [
        { secretName: 'foosecret', type: SecretType.OPAQUE, data: [{ objectName: 'foo1', key: 'username' }] },
      ],
    });

    const pod = new Pod(this, 'busybox-secrets-store-inline', {
      metadata: { name: 'busybox-secrets-store-inline' },
      // The seed runs busybox as root with a writable root filesystem; keep its shape.
      securityContext: { ensureNonRoot: false },
    });
    const busybox = pod.addContainer({
      name: 'busybox',
      image: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
      command: ['/bin/sleep', '10000'],
      securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false },
    });
    mountSecretsStore(
      busybox,
      SecretsStoreVolume.fromSecretProviderClass(spc, { name: 'secrets-store01-inline' }),
    );
    busybox.env.addVariable('SECRET_USERNAME', envFromSyncedSecret(spc, 'foosecret', 'username'));
  }
}
