// The components served as a Pulumi component package, read by the real Pulumi CLI (built by
// harness/rig/build.sh): `pulumi package get-schema` starts lib/pulumi/component-package as a provider plugin
// and asks it for its schema (Pulumi's schema inference runs inside the plugin), then binds the schema.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { COMPONENTS } from '../../lib/pulumi/component-package/components';
import { cannotRunHere, pulumiEngineBinaries } from '../../harness/rig/rig-env';

jest.setTimeout(10 * 60_000);

const PLUGIN = path.join(
  __dirname,
  '..',
  '..',
  'lib',
  'pulumi',
  'component-package',
  'pulumi-resource-aks-secrets-store',
);
const LOCK = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version: string }>;
};

interface SchemaProperty {
  type?: string;
  $ref?: string;
  plain?: boolean;
  items?: SchemaProperty;
}
interface Schema {
  name: string;
  version: string;
  resources: Record<
    string,
    {
      isComponent?: boolean;
      inputProperties: Record<string, SchemaProperty>;
      properties: Record<string, SchemaProperty>;
      requiredInputs?: string[];
    }
  >;
  dependencies?: { name: string; version: string }[];
}

describe('the component package, read by the real Pulumi CLI', () => {
  let schema: Schema;
  let stderr = '';

  beforeAll(async () => {
    let engine: ReturnType<typeof pulumiEngineBinaries>;
    try {
      engine = pulumiEngineBinaries();
    } catch (error) {
      if (cannotRunHere(`the Pulumi engine is not built: ${(error as Error).message}`)) return;
      throw error;
    }
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pulumi-get-schema-'));
    try {
      const run = await promisify(execFile)(engine.cli, ['package', 'get-schema', PLUGIN], {
        cwd: home,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 8 * 60_000,
        env: {
          ...process.env,
          PULUMI_HOME: path.join(home, 'home'),
          PULUMI_SKIP_UPDATE_CHECK: 'true',
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
          PATH: `${path.dirname(engine.kubernetesPlugin)}${path.delimiter}${process.env.PATH}`,
        },
      }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
        // The CLI prints the schema, then binds it; see the last test for the one binding failure accepted here.
        if (!error.stdout) throw error;
        return { stdout: error.stdout, stderr: error.stderr ?? '' };
      });
      schema = JSON.parse(run.stdout) as Schema;
      stderr = run.stderr;
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  const resource = (name: string) => schema.resources[`aks-secrets-store:index:${name}`];

  it('serves every component under aks-secrets-store:index:<Class>, at the package version', () => {
    if (!schema) return;
    expect(schema.name).toBe('aks-secrets-store');
    expect(schema.version).toBe(LOCK.packages[''].version);
    expect(Object.keys(schema.resources).sort()).toEqual(
      COMPONENTS.map((c) => `aks-secrets-store:index:${c.name}`).sort(),
    );
    for (const r of Object.values(schema.resources)) expect(r.isComponent).toBe(true);
  });

  it('keeps graph-shaping args plain and names from other resources as Inputs', () => {
    if (!schema) return;
    const store = resource('SecretStore').inputProperties;
    expect(store.objects.plain).toBe(true);
    expect(store.createServiceAccount).toMatchObject({ type: 'boolean', plain: true });
    for (const input of [
      'namespace',
      'serviceAccountName',
      'secretProviderClassName',
      'vaultId',
      'tenantId',
    ]) {
      expect({ input, plain: store[input].plain }).toEqual({ input, plain: undefined });
    }
    expect(resource('SecretStore').requiredInputs?.sort()).toEqual([
      'namespace',
      'objects',
      'tenantId',
      'vaultId',
    ]);
  });

  it('exposes the children as references to the azure-native and kubernetes schemas, and nothing internal', () => {
    if (!schema) return;
    const store = resource('SecretStore').properties;
    expect(store.identity.$ref).toBe(
      `/azure-native/v${LOCK.packages['node_modules/@pulumi/azure-native'].version}/schema.json#/resources/azure-native:managedidentity:UserAssignedIdentity`,
    );
    expect(store.serviceAccount.$ref).toMatch(
      /\/kubernetes\/v[\d.]+\/schema\.json#\/resources\/kubernetes:core%2Fv1:ServiceAccount$/,
    );
    expect(store.roleAssignments.items?.$ref).toMatch(/azure-native:authorization:RoleAssignment$/);
    expect(store.identityBinding.$ref).toMatch(/azure-native:containerservice:IdentityBinding$/);
    expect(store.identityBindingClusterRoleBinding.$ref).toMatch(
      /kubernetes:rbac\.authorization\.k8s\.io%2Fv1:ClusterRoleBinding$/,
    );
    expect(Object.keys(store).sort()).toEqual([
      'clientId',
      'federatedCredentials',
      'identity',
      'identityBinding',
      'identityBindingClusterRole',
      'identityBindingClusterRoleBinding',
      'keyVaultName',
      'namespace',
      'roleAssignments',
      'secretProviderClassName',
      'serviceAccount',
      'serviceAccountName',
    ]);
    expect(resource('SelfHostedInstall').properties.crds.items?.$ref).toMatch(
      /kubernetes:apiextensions\.k8s\.io%2Fv1:CustomResourceDefinition$/,
    );
    expect(resource('KeyVault').properties.privateEndpoint.$ref).toMatch(
      /azure-native:network:PrivateEndpoint$/,
    );
    expect(schema.dependencies).toEqual(
      expect.arrayContaining([
        { name: 'azure-native', version: LOCK.packages['node_modules/@pulumi/azure-native'].version },
        { name: 'kubernetes', version: LOCK.packages['node_modules/@pulumi/kubernetes'].version },
      ]),
    );
  });

  it('binds, except for the references into azure-native, whose plugin cannot be built here', () => {
    if (!schema) return;
    // Binding resolves every $ref in the referenced packages' own schemas, which their plugins serve. The
    // kubernetes plugin is on PATH; azure-native's is not buildable from the Go module proxy (docs/testing.md).
    if (stderr.includes('failed to bind schema')) {
      expect(stderr).toMatch(
        /failed to bind schema: .*resolving package \/azure-native\/v[\d.]+\/schema\.json#\/resources\/azure-native:[^:]+:\w+: no resource plugin 'pulumi-resource-azure-native' found/,
      );
    }
  });
});
