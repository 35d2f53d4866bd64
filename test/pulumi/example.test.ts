// Runs examples/pulumi (what `pulumi up` runs from Pulumi.yaml) under mocks and snapshots its resource
// graph: type, name, parent, dependsOn and inputs, with every Pulumi secret redacted.
import {
  byUrn,
  isSecretEnvelope,
  MOCK_PROJECT,
  mockAddonObjectId,
  recorded,
  RecordedResource,
} from './mocks';
import * as pulumi from '@pulumi/pulumi';

const DB_PASSWORD = 'example-db-password-do-not-leak';
const SECRET_CONFIG = `${MOCK_PROJECT}:dbPassword`;

/** Replaces Pulumi secrets by a marker, so no secret value can reach the snapshot. */
function redact(value: unknown): unknown {
  if (isSecretEnvelope(value)) return '[secret]';
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v)]),
    );
  }
  return value;
}

/** `type::name` of a URN's resource, stable across runs (URNs carry the stack and project). */
function label(urn: string | undefined): string | undefined {
  const r = urn ? byUrn(urn) : undefined;
  return r ? `${r.type}::${r.name}` : undefined;
}

function node(r: RecordedResource) {
  return {
    type: r.type,
    name: r.name,
    parent: label(r.parent),
    dependsOn: r.dependsOn
      .map(label)
      .filter((d) => d !== undefined)
      .sort(),
    retainOnDelete: r.retainOnDelete || undefined,
    inputs: redact(r.inputs),
  };
}

describe('examples/pulumi', () => {
  let program: Record<string, pulumi.Output<unknown> | unknown>;

  beforeAll(async () => {
    pulumi.runtime.setAllConfig({ [SECRET_CONFIG]: DB_PASSWORD }, [SECRET_CONFIG]);
    program = await import('../../examples/pulumi/index');
    await pulumi.runtime.disconnect();
  });

  it('builds the documented graph (snapshot)', () => {
    // Sorted: registration order depends on when each resource's inputs resolve.
    const graph = recorded
      .map(node)
      .sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`));
    expect(graph).toMatchSnapshot();
  });

  it('never puts the secret value in the graph', () => {
    expect(JSON.stringify(recorded.map(node))).not.toContain(DB_PASSWORD);
    const seeded = recorded.find((r) => r.type === 'azure-native:keyvault:Secret')!;
    expect(isSecretEnvelope(seeded.inputs.properties)).toBe(true);
  });

  it('enables the add-on with rotation every 5m and the OIDC issuer + workload identity', () => {
    const cluster = recorded.find((r) => r.type === 'azure-native:containerservice:ManagedCluster')!;
    expect(cluster.inputs.addonProfiles).toEqual({
      azureKeyvaultSecretsProvider: {
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
      },
    });
    expect(cluster.inputs.oidcIssuerProfile).toEqual({ enabled: true });
    expect(cluster.inputs.securityProfile).toEqual({ workloadIdentity: { enabled: true } });
    expect(recorded.filter((r) => r.type === 'kubernetes:apps/v1:DaemonSet')).toEqual([]);
  });

  it('federates the team identity with the cluster issuer and the team ServiceAccount', () => {
    const fic = recorded.find((r) => r.type === 'azure-native:managedidentity:FederatedIdentityCredential')!;
    expect(fic.inputs).toMatchObject({
      issuer: 'https://oidc.example/aks/',
      subject: 'system:serviceaccount:orders:orders-app',
      audiences: ['api://AzureADTokenExchange'],
    });
  });

  it('runs a Deployment that mounts the store read-only and reads an env var from the synced Secret', () => {
    const deployment = recorded.find((r) => r.type === 'kubernetes:apps/v1:Deployment')!;
    const pod = deployment.inputs.spec.template.spec;
    expect(pod.serviceAccountName).toBe('orders-app');
    expect(pod.volumes).toEqual([
      {
        name: 'secrets-store-orders',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'orders' },
        },
      },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'secrets-store-orders', mountPath: '/mnt/secrets-store/orders', readOnly: true },
    ]);
    expect(pod.containers[0].env).toEqual([
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } },
    ]);
    const spc = recorded.find(
      (r) => r.type === 'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass',
    )!;
    expect(spc.inputs.spec.secretObjects).toEqual([
      { secretName: 'orders-db', type: 'Opaque', data: [{ objectName: 'db-password', key: 'password' }] },
    ]);
    expect(deployment.dependsOn).toContain(spc.urn);
  });

  it('grants the add-on identity nothing and the team identity only its own secret (issue 13, defect 6)', () => {
    const assignments = recorded.filter((r) => r.type === 'azure-native:authorization:RoleAssignment');
    expect(assignments.map((r) => r.inputs.principalId)).not.toContain(mockAddonObjectId('aks'));
    expect(assignments.map((r) => r.inputs.scope)).toEqual([
      expect.stringMatching(/\/vaults\/orders-kv\/secrets\/orders-db-password$/),
    ]);
  });

  it('exports the store outputs', async () => {
    const value = <T>(o: unknown) => new Promise<T>((resolve) => (o as pulumi.Output<T>).apply(resolve));
    expect(program.installMode).toBe('addon');
    expect(await value(program.secretProviderClassName)).toBe('orders');
    expect(await value(program.serviceAccountName)).toBe('orders-app');
  });
});
