// Runs a compiled Pulumi program under the SDK's mocks inside a consumer project (it is compiled there,
// against that project's own @pulumi/pulumi), and writes every resource the program registered as JSON.
//   node pulumi-mock-run.js <program.js> <report.json> <project> [<config key>=<secret value> ...]
// The mocks answer like Azure would in shape (GUID client ids, an OIDC issuer URL, a kubeconfig), so the
// components' own checks on those values run as they would in a real `pulumi up`.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';

interface Registered {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, unknown>;
}

const [program, report, project, ...configArgs] = process.argv.slice(2);
if (!program || !report || !project) {
  throw new Error('usage: node pulumi-mock-run.js <program.js> <report.json> <project> [<key>=<value> ...]');
}

/** A GUID derived from `seed`, so every run gives the same ids. */
function guid(seed: string): string {
  const h = crypto.createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
const TENANT_ID = guid('tenant');
const SUBSCRIPTION_ID = guid('subscription');

// ARM resource types of the azure-native tokens whose ids the components parse.
const ARM_TYPES: Record<string, string> = {
  'azure-native:keyvault:Vault': 'Microsoft.KeyVault/vaults',
  'azure-native:managedidentity:UserAssignedIdentity': 'Microsoft.ManagedIdentity/userAssignedIdentities',
  'azure-native:containerservice:ManagedCluster': 'Microsoft.ContainerService/managedClusters',
};

/** An ARM resource id of the shape Azure returns. */
function armId(type: string, name: string, inputs: Record<string, unknown>): string {
  const group = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups`;
  if (type === 'azure-native:resources:ResourceGroup') return `${group}/${inputs.resourceGroupName ?? name}`;
  const [, service, kind] = type.split(':');
  const armType = ARM_TYPES[type] ?? `Mock.${service}/${kind}`;
  return `${group}/mock/providers/${armType}/${inputs.vaultName ?? inputs.resourceName ?? name}`;
}

function outputsOf(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case 'azure-native:containerservice:ManagedCluster':
      return {
        ...inputs,
        name: inputs.resourceName ?? name,
        oidcIssuerProfile: { enabled: true, issuerURL: `https://oidc.example/${name}/` },
        addonProfiles: Object.fromEntries(
          Object.entries((inputs.addonProfiles ?? {}) as Record<string, object>).map(([key, profile]) => [
            key,
            {
              ...profile,
              identity: { clientId: guid(`addon-client:${name}`), objectId: guid(`addon-object:${name}`) },
            },
          ]),
        ),
      };
    case 'azure-native:managedidentity:UserAssignedIdentity':
      return {
        ...inputs,
        name: inputs.resourceName ?? name,
        clientId: guid(`client:${name}`),
        principalId: guid(`principal:${name}`),
        tenantId: TENANT_ID,
      };
    case 'azure-native:keyvault:Vault': {
      const vaultName = (inputs.vaultName as string | undefined) ?? name;
      const properties = (inputs.properties ?? {}) as Record<string, unknown>;
      return {
        ...inputs,
        name: vaultName,
        properties: { ...properties, vaultUri: `https://${vaultName}.vault.azure.net/` },
      };
    }
    case 'pulumi:pulumi:StackReference':
      // A stack with no earlier deployment.
      return { ...inputs, outputs: {}, secretOutputNames: [] };
    default:
      return { ...inputs, name: inputs.name ?? inputs.resourceGroupName ?? name };
  }
}

const registered: Registered[] = [];
pulumi.runtime.setAllConfig(
  Object.fromEntries(
    configArgs.map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]),
  ),
  configArgs.map((arg) => arg.slice(0, arg.indexOf('='))),
);
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      const id = args.type.startsWith('azure-native:')
        ? armId(args.type, args.name, args.inputs)
        : `${args.name}-id`;
      registered.push({ type: args.type, name: args.name, id, inputs: args.inputs });
      return { id, state: outputsOf(args.type, args.name, args.inputs) };
    },
    call: (args) => {
      if (args.token === 'azure-native:authorization:getClientConfig') {
        return {
          clientId: guid('deployer'),
          objectId: guid('deployer-object'),
          subscriptionId: SUBSCRIPTION_ID,
          tenantId: TENANT_ID,
        };
      }
      if (args.token === 'azure-native:containerservice:listManagedClusterUserCredentials') {
        const kubeconfig = `apiVersion: v1\nkind: Config\nclusters: [{name: ${args.inputs.resourceName}, cluster: {server: "https://127.0.0.1:6443"}}]\n`;
        return { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') }] };
      }
      return args.inputs;
    },
  },
  project,
  'dev',
  false,
  'organization',
);

let failed = false;
process.on('unhandledRejection', (error) => {
  failed = true;
  console.error('unhandled rejection in the program:', error);
});

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the program is loaded the way `pulumi up` loads it
require(path.resolve(program));
pulumi.runtime
  .disconnect()
  .then(() => {
    fs.writeFileSync(report, JSON.stringify({ tenantId: TENANT_ID, registered }, null, 2));
    process.exit(failed ? 1 : 0);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
