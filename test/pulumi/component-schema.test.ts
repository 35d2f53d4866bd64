// The components must stay servable to Python/Go/C# as a Pulumi component package. Pulumi's own schema
// analyzer (the code `pulumi package add` runs on a TypeScript component package) must accept every
// component: args are interfaces without unions, outputs are Outputs or @pulumi resources.
import { Analyzer } from '@pulumi/pulumi/provider/experimental/analyzer';
import * as fs from 'fs';
import * as path from 'path';
import * as packageJson from '../../package.json';
import { COMPONENTS as COMPONENT_CLASSES } from '../../lib/pulumi/component-package/components';

const COMPONENTS = COMPONENT_CLASSES.map((component) => component.name).sort();

describe('component package schema', () => {
  // Type-checks the package with @pulumi/azure-native's types: tens of seconds.
  jest.setTimeout(240_000);
  let result: ReturnType<Analyzer['analyze']>;
  beforeAll(() => {
    // The component package's own directory: its tsconfig.json limits the type-check to lib/pulumi and what it
    // imports, its package.json names the entry point.
    const dir = path.join(__dirname, '..', '..', 'lib', 'pulumi', 'component-package');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe(packageJson.name);
    const analyzer = new Analyzer(dir, manifest.name, manifest, new Set(COMPONENTS));
    result = analyzer.analyze();
  });

  it('accepts every component', () => {
    expect(Object.keys(result.components).sort()).toEqual(COMPONENTS);
  });

  it('keeps graph-shaping args plain and pass-through args as inputs', () => {
    const store = result.components.SecretStore.inputs;
    // Names users take from other resources are Inputs (issue 13, defect 7); the object lists shape the graph.
    expect(store.namespace).toMatchObject({ type: 'string' });
    expect(store.namespace.plain).toBeUndefined();
    expect(store.serviceAccountName.plain).toBeUndefined();
    expect(store.objects).toMatchObject({ plain: true });
    expect(store.createServiceAccount).toMatchObject({ type: 'boolean', plain: true });
    expect(store.keyVaultName.plain).toBeUndefined();
    expect(store.tenantId.plain).toBeUndefined();
    // Identity binding: a plain-object input, the AKS IdentityBinding as a typed output.
    expect(JSON.stringify(store.identityBinding)).toContain('SecretStoreIdentityBinding');
    expect(JSON.stringify(result.components.SecretStore.outputs.identityBinding)).toContain(
      'azure-native:containerservice:IdentityBinding',
    );
    const identity = result.components.WorkloadIdentity.inputs;
    expect(identity.federatedCredentials).toMatchObject({ plain: true });
    expect(identity.issuerUrl.plain).toBeUndefined();
  });

  it('offers the install options of the shared core, Windows nodes included', () => {
    const install = result.components.SelfHostedInstall.inputs;
    expect(install.windowsNodes).toMatchObject({ type: 'boolean' });
    expect(install.windowsKubeletRootDir).toMatchObject({ type: 'string' });
    expect(install.windowsProvidersDir).toMatchObject({ type: 'string' });
    expect(install.windowsNodeSelector).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
  });

  it('describes enums as schema types and resources as references', () => {
    expect(result.components.KeyVault.inputs.sku).toMatchObject({
      $ref: '#/types/aks-secrets-store:index:KeyVaultSku',
    });
    expect(JSON.stringify(result.components.KeyVault.outputs.vault)).toContain('azure-native:keyvault:Vault');
    expect(JSON.stringify(result.components.SelfHostedInstall.outputs.crds)).toContain(
      'kubernetes:apiextensions.k8s.io%2Fv1:CustomResourceDefinition',
    );
  });
});
