import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { KeyVaultIdentityProps, KeyVaultObjectType, ObjectFormat, SecretType } from 'aks-secrets-store';
import { SecretStore } from 'aks-secrets-store/cdk8s';
import { Deployment } from 'cdk8s-plus-33';

export interface TeamChartProps {
  readonly namespace: string;
  readonly keyVaultName: string;
  readonly identity: KeyVaultIdentityProps;
}

/**
 * One team's composite: a SecretStore (SecretProviderClass + ServiceAccount) whose Deployment reads
 * the mounted files, an env var from a synced Opaque Secret, and a TLS Secret synced from a
 * certificate; Reloader restarts it when a synced Secret rotates (env vars never change in place).
 */
export class TeamChart extends Chart {
  public readonly store: SecretStore;

  constructor(scope: Construct, id: string, props: TeamChartProps) {
    super(scope, id, { namespace: props.namespace });

    this.store = new SecretStore(this, 'orders-secrets', {
      ...props.identity,
      serviceAccountName: 'orders',
      keyVaultName: props.keyVaultName,
      objects: [
        {
          objectName: 'orders-db-password',
          objectType: KeyVaultObjectType.SECRET,
          objectAlias: 'db-password',
        },
        { objectName: 'orders-api-key', objectType: KeyVaultObjectType.SECRET, filePermission: '0440' },
        // A certificate's secret holds the private key and the chain: synced into a TLS Secret.
        { objectName: 'orders-tls', objectType: KeyVaultObjectType.SECRET, objectFormat: ObjectFormat.PEM },
        // The previous two versions of the signing key, as signing-key/0 and signing-key/1.
        { objectName: 'signing-key', objectType: KeyVaultObjectType.KEY, objectVersionHistory: 2 },
      ],
      secretObjects: [
        {
          secretName: 'orders-db',
          type: SecretType.OPAQUE,
          data: [{ objectName: 'db-password', key: 'password' }],
          labels: { team: 'orders' },
        },
        {
          secretName: 'orders-tls',
          type: SecretType.TLS,
          data: [
            { objectName: 'orders-tls', key: 'tls.crt' },
            { objectName: 'orders-tls', key: 'tls.key' },
          ],
        },
      ],
    });

    const deployment = new Deployment(this, 'orders', {
      metadata: { name: 'orders' },
      replicas: 2,
      serviceAccount: this.store.serviceAccount,
    });
    deployment.addContainer({
      name: 'orders',
      image: 'ghcr.io/example/orders:1.0.0',
      portNumber: 8080,
    });
    this.store.wire(deployment, {
      env: { DB_PASSWORD: { secretName: 'orders-db', key: 'password' } },
      restartOnRotation: true,
    });
  }
}
