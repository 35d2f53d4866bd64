// Pulumi mocks for the component tests. Import this module FIRST in a test file: setMocks must run
// before any component module is loaded. No Pulumi CLI or provider plugin is involved; the engine
// calls newResource for every registration and we record the raw inputs for assertions.
import * as pulumi from '@pulumi/pulumi';

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly custom: boolean;
}

export const recorded: RecordedResource[] = [];
export const MOCK_TENANT_ID = '72f988bf-0000-4000-8000-000000000001';
export const MOCK_SUBSCRIPTION_ID = '00000000-1111-4222-8333-444444444444';

/** Deterministic fake outputs per resource type, so downstream inputs are predictable. */
function fakeState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const state = { ...inputs, name: inputs.name ?? name };
  switch (type) {
    case 'azure-native:keyvault:Vault':
      state.name = inputs.vaultName ?? name;
      state.properties = { ...inputs.properties, vaultUri: `https://${state.name}.vault.azure.net/` };
      break;
    case 'azure-native:managedidentity:UserAssignedIdentity':
      state.name = inputs.resourceName ?? name;
      state.clientId = `client-id-of-${name}`;
      state.principalId = `principal-id-of-${name}`;
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
            identity: { clientId: `addon-client-id-of-${name}`, objectId: `addon-object-id-of-${name}` },
          },
        ]),
      );
      break;
    case 'azure-native:resources:ResourceGroup':
      state.name = inputs.resourceGroupName ?? name;
      break;
  }
  return state;
}

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      recorded.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true });
      const id = args.type.startsWith('azure-native:')
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
      return args.inputs;
    },
  },
  'aks-secrets-store-test',
  'test',
  false,
);

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
