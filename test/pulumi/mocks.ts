/* eslint-disable @typescript-eslint/no-explicit-any -- engine payloads are untyped JSON */
// Pulumi mocks for the component tests. Import this module FIRST in a test file: setMocks must run
// before any component module is loaded. No Pulumi CLI or provider plugin is involved; the engine
// calls newResource for every registration and we record the raw inputs for assertions.
import * as pulumi from '@pulumi/pulumi';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks';
import { deserializeProperties } from '@pulumi/pulumi/runtime/rpc';
import { uuidV5 } from '../../lib/pulumi/deterministic-guid';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module without typings
const { getStore } = require('@pulumi/pulumi/runtime/state') as { getStore(): Record<string, unknown> };

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** URN of the parent (the component, or the stack). */
  readonly parent?: string;
  /** URNs named in dependsOn (plus those implied by parent/inputs as the SDK computes them). */
  readonly dependsOn: string[];
  readonly retainOnDelete: boolean;
  /** Provider reference `<urn>::<id>` when one was passed explicitly. */
  readonly provider?: string;
  readonly inputs: Record<string, any>;
  readonly custom: boolean;
  /** Aliases as the SDK sends them: a URN, or a spec (name / parent URN) relative to this resource. */
  readonly aliases: { urn?: string; name?: string; parentUrn?: string }[];
  readonly deleteBeforeReplace: boolean;
}

export const recorded: RecordedResource[] = [];
/** The project of Pulumi.yaml, so the example program reads its config keys under its own name. */
export const MOCK_PROJECT = 'aks-secrets-store-example';
export const MOCK_STACK = 'test';
export const MOCK_ORGANIZATION = 'organization';
export const MOCK_TENANT_ID = '72f988bf-0000-4000-8000-000000000001';
export const MOCK_SUBSCRIPTION_ID = '00000000-1111-4222-8333-444444444444';

/** Fake ids are GUIDs (the core checks client ids are), derived from the resource name so tests can predict them. */
export function mockGuid(kind: string, name: string): string {
  return uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', `mock:${kind}:${name}`);
}
export const mockClientId = (name: string): string => mockGuid('client-id', name);
export const mockPrincipalId = (name: string): string => mockGuid('principal-id', name);
export const mockAddonClientId = (cluster: string): string => mockGuid('addon-client-id', cluster);
export const mockAddonObjectId = (cluster: string): string => mockGuid('addon-object-id', cluster);

/**
 * The migration test records several deployments of one program in one process, naming them
 * `deploy<N>~<name>`; a resource gets the same fake ids in every deployment, as it would in Azure.
 */
export const DEPLOYMENT_PREFIX = /^deploy\d+~/;

/** Deterministic fake outputs per resource type, so downstream inputs are predictable. */
function fakeState(type: string, registeredName: string, inputs: Record<string, any>): Record<string, any> {
  const name = registeredName.replace(DEPLOYMENT_PREFIX, '');
  const state: Record<string, any> = { ...inputs, name: inputs.name ?? name };
  switch (type) {
    case 'azure-native:keyvault:Vault':
      state.name = inputs.vaultName ?? name;
      state.properties = { ...inputs.properties, vaultUri: `https://${state.name}.vault.azure.net/` };
      break;
    case 'azure-native:managedidentity:UserAssignedIdentity':
      state.name = inputs.resourceName ?? name;
      state.clientId = mockClientId(name);
      state.principalId = mockPrincipalId(name);
      state.tenantId = MOCK_TENANT_ID;
      break;
    case 'azure-native:containerservice:ManagedCluster':
      state.name = inputs.resourceName ?? name;
      state.oidcIssuerProfile = { enabled: true, issuerURL: `https://oidc.example/${name}/` };
      state.addonProfiles = Object.fromEntries(
        Object.entries(inputs.addonProfiles ?? {}).map(([key, profile]) => [
          key,
          {
            ...(profile as object),
            identity: { clientId: mockAddonClientId(name), objectId: mockAddonObjectId(name) },
          },
        ]),
      );
      break;
    case 'pulumi:pulumi:StackReference':
      // A stack with no previous deployment: no outputs yet.
      state.outputs = {};
      state.secretOutputNames = [];
      break;
    case 'azure-native:resources:ResourceGroup':
      state.name = inputs.resourceGroupName ?? name;
      break;
  }
  return state;
}

const mocks: pulumi.runtime.Mocks = {
  newResource: (args) => {
    const name = args.name.replace(DEPLOYMENT_PREFIX, '');
    const id =
      args.type === 'azure-native:keyvault:Vault'
        ? // The real ARM shape: the components parse the vault's name and subscription from it.
          `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${args.inputs.resourceGroupName ?? 'rg'}/providers/Microsoft.KeyVault/vaults/${args.inputs.vaultName ?? name}`
        : args.type.startsWith('azure-native:')
          ? `/subscriptions/${MOCK_SUBSCRIPTION_ID}/mock/${args.type.split(':').slice(1).join('/')}/${args.name}`
          : `${args.name}-id`;
    return { id, state: fakeState(args.type, args.name, args.inputs) };
  },
  call: (args) => {
    if (args.token === 'azure-native:authorization:getClientConfig') {
      return {
        clientId: 'deployer-client-id',
        objectId: 'deployer-object-id',
        subscriptionId: MOCK_SUBSCRIPTION_ID,
        tenantId: MOCK_TENANT_ID,
      };
    }
    if (args.token === 'azure-native:containerservice:listManagedClusterUserCredentials') {
      const kubeconfig = `apiVersion: v1\nkind: Config\nclusters: [{name: ${args.inputs.resourceName}, cluster: {server: "https://127.0.0.1:6443"}}]\n`;
      return { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') }] };
    }
    return args.inputs;
  },
};

/** The URN the mock monitor gives a resource (its parent's type is folded into the qualified type). */
function urnOf(parentUrn: string, type: string, name: string): string {
  const qualifiedType = parentUrn ? `${parentUrn.split('::')[2].split('$').pop()}$${type}` : type;
  return `urn:pulumi:${MOCK_STACK}::${MOCK_PROJECT}::${qualifiedType}::${name}`;
}

/**
 * The SDK's mock monitor, extended to record what the engine would see besides inputs: the parent,
 * the dependsOn URNs, retainOnDelete and the explicit provider. The graph assertions need these.
 */
class RecordingMonitor extends MockMonitor {
  override async registerResource(req: any, callback: (err: any, res: any) => void): Promise<void> {
    const type: string = req.getType();
    const name: string = req.getName();
    recorded.push({
      type,
      name,
      urn: urnOf(req.getParent(), type, name),
      parent: req.getParent() || undefined,
      dependsOn: [...req.getDependenciesList()],
      retainOnDelete: req.getRetainondelete() === true,
      provider: req.getProvider() || undefined,
      inputs: deserializeProperties(req.getObject()),
      custom: req.getCustom(),
      aliases: req.getAliasesList().map((alias: any) => {
        const spec = alias.getSpec();
        return alias.getUrn()
          ? { urn: alias.getUrn() }
          : { name: spec.getName() || undefined, parentUrn: spec.getParenturn() || undefined };
      }),
      deleteBeforeReplace: req.getDeletebeforereplace() === true,
    });
    return super.registerResource(req, callback);
  }
}

// What setMocks does, with our monitor: mock mode with every engine feature except output values.
pulumi.runtime.setMockOptions(
  new RecordingMonitor(mocks),
  MOCK_PROJECT,
  MOCK_STACK,
  false,
  MOCK_ORGANIZATION,
);
Object.assign(getStore(), {
  supportsSecrets: true,
  supportsResourceReferences: true,
  supportsOutputValues: false,
  supportsDeletedWith: true,
  supportsReplaceWith: true,
  supportsAliasSpecs: true,
  supportsTransforms: false,
  supportsParameterization: true,
  supportsResourceHooks: true,
  supportsErrorHooks: true,
});

/** Pulumi's wire marker for a secret value (the `4dabf...` special signature key). */
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** True when an input arrived at the engine wrapped as a Pulumi secret. */
export function isSecretEnvelope(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** Resolves an Output (test helper; Outputs are otherwise opaque). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until every given resource is registered (children whose inputs are Outputs register late). */
export async function registered(...resources: pulumi.Resource[]): Promise<void> {
  await Promise.all(resources.map((r) => valueOf(r.urn)));
}

/**
 * Waits until a component's children are registered: every child resource it exposes and, through its Output
 * fields (which resolve from children's outputs), the children it keeps to itself.
 */
export async function settled(component: pulumi.Resource): Promise<void> {
  const values = Object.values(component as unknown as Record<string, unknown>).flatMap((v) =>
    Array.isArray(v)
      ? v
      : v && typeof v === 'object' && !pulumi.Output.isInstance(v) && !pulumi.Resource.isInstance(v)
        ? Object.values(v)
        : [v],
  );
  await Promise.all(
    values.map((v) =>
      pulumi.Resource.isInstance(v) ? valueOf(v.urn) : pulumi.Output.isInstance(v) ? valueOf(v) : undefined,
    ),
  );
}

export function byType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

export function one(type: string, name: string): RecordedResource {
  const found = recorded.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} named ${name}, found ${found.length}: ${recorded.map((r) => `${r.type}/${r.name}`).join(', ')}`,
    );
  }
  return found[0];
}

/** The recorded resource whose URN is `urn`. */
export function byUrn(urn: string): RecordedResource | undefined {
  return recorded.find((r) => r.urn === urn);
}
