// A stand-in for the azure-native provider plugin, for the rig's real Pulumi engine: it speaks the Pulumi
// provider protocol (the engine cannot tell it from the real plugin, which cannot be built from the Go module
// proxy) and keeps the Azure side in a JSON file, so successive `up`s see one Azure. It models what the lifecycle
// tests depend on, with Azure's rules: ARM ids, auto-naming (name + 8 random characters, kept across updates),
// which property changes replace a resource, managed identity client/principal ids, and the refusal of a second
// federated identity credential with the same issuer and subject on one identity.
//
// Started by the engine as `pulumi-resource-azure-native` (harness/rig/pulumi-engine.ts writes the launcher);
// FAKE_ARM_STATE names the state file.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { main, Provider } from '@pulumi/pulumi/provider';

const VERSION = '3.28.0';
const SUBSCRIPTION = '00000000-1111-4222-8333-444444444444';
const TENANT = '72f988bf-0000-4000-8000-000000000001';

type Props = Record<string, unknown>;
interface Stored {
  readonly type: string;
  props: Props;
}

/** Per type: the ARM id, the auto-named property, and the inputs whose change replaces the resource. */
const TYPES: Record<string, { id: (p: Props) => string; nameProperty: string; replaceOn: string[] }> = {
  'azure-native:managedidentity:UserAssignedIdentity': {
    id: (p) =>
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/${p.resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${p.resourceName}`,
    nameProperty: 'resourceName',
    replaceOn: ['resourceGroupName', 'resourceName', 'location'],
  },
  'azure-native:managedidentity:FederatedIdentityCredential': {
    id: (p) =>
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/${p.resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${p.resourceName}/federatedIdentityCredentials/${p.federatedIdentityCredentialResourceName}`,
    nameProperty: 'federatedIdentityCredentialResourceName',
    replaceOn: ['resourceGroupName', 'resourceName', 'federatedIdentityCredentialResourceName'],
  },
  'azure-native:authorization:RoleAssignment': {
    id: (p) => `${p.scope}/providers/Microsoft.Authorization/roleAssignments/${p.roleAssignmentName}`,
    nameProperty: 'roleAssignmentName',
    replaceOn: ['scope', 'roleAssignmentName', 'principalId', 'roleDefinitionId', 'principalType'],
  },
};

const stateFile = process.env.FAKE_ARM_STATE ?? '';

function load(): Record<string, Stored> {
  return fs.existsSync(stateFile)
    ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, Stored>)
    : {};
}

function save(state: Record<string, Stored>): void {
  fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
}

function typeOf(urn: string): string {
  return urn.split('::')[2].split('$').pop()!;
}

function nameOf(urn: string): string {
  return urn.split('::')[3];
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function rules(urn: string) {
  const rule = TYPES[typeOf(urn)];
  if (!rule) throw new Error(`the fake azure-native provider does not model ${typeOf(urn)}`);
  return rule;
}

/** Azure's answer to a second credential with one issuer and subject on an identity (HTTP 400 on ARM). */
function checkCredentialUnique(state: Record<string, Stored>, id: string, props: Props): void {
  const identity = id.slice(0, id.indexOf('/federatedIdentityCredentials/')).toLowerCase();
  for (const [otherId, other] of Object.entries(state)) {
    if (otherId.toLowerCase() === id.toLowerCase() || !otherId.toLowerCase().startsWith(`${identity}/`))
      continue;
    if (other.props.issuer === props.issuer && other.props.subject === props.subject) {
      throw new Error(
        `BadRequest: FederatedIdentityCredential '${otherId.split('/').pop()}' on this identity already has issuer '${String(props.issuer)}' and subject '${String(props.subject)}'; a second credential with the same issuer and subject is not allowed`,
      );
    }
  }
}

function outputs(type: string, id: string, props: Props): Props {
  const outs: Props = { ...props, id, name: props[TYPES[type].nameProperty] };
  if (type === 'azure-native:managedidentity:UserAssignedIdentity') {
    Object.assign(outs, {
      clientId: uuidFrom(`client:${id}`),
      principalId: uuidFrom(`principal:${id}`),
      tenantId: TENANT,
    });
  }
  return outs;
}

function write(urn: string, id: string | undefined, props: Props): { id: string; outs: Props } {
  const type = typeOf(urn);
  const newId = TYPES[type].id(props);
  const state = load();
  if (type === 'azure-native:managedidentity:FederatedIdentityCredential')
    checkCredentialUnique(state, newId, props);
  if (id === undefined && state[newId]) throw new Error(`Conflict: ${newId} already exists`);
  state[newId] = { type, props };
  save(state);
  return { id: newId, outs: outputs(type, newId, props) };
}

const provider: Provider = {
  version: VERSION,
  async check(urn, olds, news) {
    const { nameProperty } = rules(urn);
    // Auto-naming as Pulumi providers do: the resource name plus 8 random characters, kept once chosen.
    const inputs = { ...news };
    if (inputs[nameProperty] === undefined) {
      inputs[nameProperty] =
        (olds as Props | undefined)?.[nameProperty] ??
        (nameProperty === 'roleAssignmentName'
          ? uuidFrom(randomBytes(16).toString('hex'))
          : `${nameOf(urn)}${randomBytes(4).toString('hex')}`);
    }
    return { inputs };
  },
  async diff(_id, urn, olds, news) {
    const { replaceOn } = rules(urn);
    const changed = Object.keys({ ...olds, ...news }).filter(
      (key) =>
        !['id', 'name', 'clientId', 'principalId', 'tenantId'].includes(key) &&
        JSON.stringify(olds[key]) !== JSON.stringify(news[key]),
    );
    return { changes: changed.length > 0, replaces: changed.filter((key) => replaceOn.includes(key)) };
  },
  async create(urn, inputs) {
    return write(urn, undefined, inputs as Props);
  },
  async update(id, urn, _olds, news) {
    return { outs: write(urn, id, news as Props).outs };
  },
  async delete(id) {
    const state = load();
    delete state[id];
    save(state);
  },
  async read(id, urn, props) {
    const stored = load()[id];
    return stored ? { id, props: outputs(typeOf(urn), id, stored.props) } : { id: '', props };
  },
  async invoke(token) {
    if (token === 'azure-native:authorization:getClientConfig') {
      return {
        outputs: {
          clientId: 'deployer',
          objectId: 'deployer',
          subscriptionId: SUBSCRIPTION,
          tenantId: TENANT,
        },
      };
    }
    throw new Error(`the fake azure-native provider does not model ${token}`);
  },
};

void main(provider, process.argv.slice(2));
