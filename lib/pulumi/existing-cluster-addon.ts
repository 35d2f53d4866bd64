import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import { AddonProfileOptions, renderAddonProfile } from '../core/addon-profile';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';
import { ArmAddonProfile, ManagedClusterAddonClient } from './managed-cluster-addon-client';

// The add-on on a cluster this stack does not own (the seed's `az aks addon update --enable-secret-rotation
// --rotation-poll-interval 5m`): azure-native's ManagedCluster would take the whole cluster over, so this
// component changes only the add-on profile, over ARM, and puts back what it found when it is deleted.

export interface ExistingClusterSecretsProviderAddonArgs {
  /** Resource id of the AKS cluster (`/subscriptions/.../providers/Microsoft.ContainerService/managedClusters/<name>`). */
  clusterId: pulumi.Input<string>;
  /**
   * Re-read mounted objects from Key Vault every `rotationPollInterval`.
   * @default false, as `az aks enable-addons`
   */
  enableSecretRotation?: boolean;
  /**
   * Rotation poll interval (e.g. "5m"); needs `enableSecretRotation`.
   * @default '2m'
   */
  rotationPollInterval?: string;
  /**
   * ARM endpoint (another cloud, or a test double).
   * @default 'https://management.azure.com'
   */
  armEndpoint?: string;
  /**
   * Bearer token for ARM.
   * @default - the token of the credentials azure-native runs with (authorization.getClientToken)
   */
  accessToken?: pulumi.Input<string>;
}

const CLUSTER_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerService\/managedClusters\/[^/]+$/i;

/** Inputs and state of the dynamic resource (plain JSON). */
interface AddonSettingsState {
  clusterId: string;
  profile: ArmAddonProfile;
  armEndpoint?: string;
  accessToken: string;
  /** JSON of the profile found before the first write ("null": none). */
  previousProfile?: string;
  addonKey?: string;
  clientId?: string;
  objectId?: string;
}

/** The dynamic provider: its functions run in the engine's provider process (see `addonSettingsProvider`). */
export const addonSettingsProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: AddonSettingsState, news: AddonSettingsState) {
    const replaces = olds.clusterId.toLowerCase() !== news.clusterId.toLowerCase() ? ['clusterId'] : [];
    const changes = replaces.length > 0 || JSON.stringify(olds.profile) !== JSON.stringify(news.profile);
    // Deleting first puts the old cluster back before another cluster is changed.
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: AddonSettingsState) {
    const client = new ManagedClusterAddonClient({ endpoint: inputs.armEndpoint, token: inputs.accessToken });
    const result = await client.setSecretsProviderAddon(inputs.clusterId, inputs.profile);
    return {
      id: `${inputs.clusterId}/addonProfiles/${result.key}`,
      outs: {
        ...inputs,
        previousProfile: JSON.stringify(result.previous),
        addonKey: result.key,
        clientId: result.current?.identity?.clientId ?? '',
        objectId: result.current?.identity?.objectId ?? '',
      },
    };
  },
  async update(_id: string, olds: AddonSettingsState, news: AddonSettingsState) {
    const client = new ManagedClusterAddonClient({ endpoint: news.armEndpoint, token: news.accessToken });
    const result = await client.setSecretsProviderAddon(news.clusterId, news.profile);
    return {
      outs: {
        ...news,
        // What to restore is what was there before this stack first touched the cluster.
        previousProfile: olds.previousProfile,
        addonKey: result.key,
        clientId: result.current?.identity?.clientId ?? '',
        objectId: result.current?.identity?.objectId ?? '',
      },
    };
  },
  async delete(_id: string, props: AddonSettingsState) {
    const client = new ManagedClusterAddonClient({ endpoint: props.armEndpoint, token: props.accessToken });
    const previous = JSON.parse(props.previousProfile ?? 'null') as ArmAddonProfile | null;
    // A profile AKS had created is put back as it was (without the identity, which is AKS's); none: removed.
    await client.setSecretsProviderAddon(
      props.clusterId,
      previous === null
        ? null
        : { enabled: previous.enabled, ...(previous.config ? { config: previous.config } : {}) },
    );
  },
};

/** The add-on settings of one cluster, as a resource of the dynamic provider above. */
class AddonSettings extends pulumi.dynamic.Resource {
  declare readonly clientId: pulumi.Output<string>;
  declare readonly objectId: pulumi.Output<string>;
  declare readonly previousProfile: pulumi.Output<string>;

  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts: pulumi.CustomResourceOptions,
  ) {
    super(addonSettingsProvider, name, props, opts);
  }
}

/**
 * Enables the AKS Key Vault secrets provider add-on, with its rotation settings, on a cluster this stack does not
 * own, as `az aks addon update` does: read the cluster, change only `addonProfiles.azureKeyvaultSecretsProvider`
 * (found case-insensitively), write it back with If-Match and wait for the operation. Deleting the component puts
 * back the profile it found (or removes the one it added).
 */
export class ExistingClusterSecretsProviderAddon extends pulumi.ComponentResource {
  /** Client id of the add-on identity (for SecretProviderClasses that use it). */
  public readonly addonIdentityClientId: pulumi.Output<string>;
  /** Object id of the add-on identity (for role assignments). */
  public readonly addonIdentityObjectId: pulumi.Output<string>;
  /** The profile found before this stack changed it, as JSON (`null`: none). */
  public readonly previousProfile: pulumi.Output<string>;

  constructor(
    name: string,
    args: ExistingClusterSecretsProviderAddonArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const rendered = renderAddonProfile(addonOptions(args));
    const clusterId =
      typeof args.clusterId === 'string'
        ? checkClusterId(args.clusterId)
        : pulumi.output(args.clusterId).apply(checkClusterId);
    super(componentType('ExistingClusterSecretsProviderAddon'), name, {}, opts);

    const accessToken = pulumi.secret(
      args.accessToken ??
        authorization.getClientTokenOutput({ endpoint: args.armEndpoint }, { parent: this }).token,
    );
    const settings = new AddonSettings(
      `${name}-settings`,
      {
        clusterId,
        profile: { enabled: rendered.enabled, config: { ...rendered.config } },
        armEndpoint: args.armEndpoint,
        accessToken,
        previousProfile: undefined,
        addonKey: undefined,
        clientId: undefined,
        objectId: undefined,
      },
      { parent: this, additionalSecretOutputs: ['accessToken'] },
    );
    const out = settings as unknown as Record<
      'clientId' | 'objectId' | 'previousProfile',
      pulumi.Output<string>
    >;
    this.addonIdentityClientId = out.clientId;
    this.addonIdentityObjectId = out.objectId;
    this.previousProfile = out.previousProfile;
    this.registerOutputs({
      addonIdentityClientId: this.addonIdentityClientId,
      addonIdentityObjectId: this.addonIdentityObjectId,
      previousProfile: this.previousProfile,
    });
  }
}

function addonOptions(args: ExistingClusterSecretsProviderAddonArgs): AddonProfileOptions {
  return { enableSecretRotation: args.enableSecretRotation, rotationPollInterval: args.rotationPollInterval };
}

function checkClusterId(id: string): string {
  if (!CLUSTER_ID.test(id)) {
    throw new ValidationError(
      'clusterId',
      `"${id}" is not an AKS cluster resource id; use /subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.ContainerService/managedClusters/<name> (az aks show --query id)`,
    );
  }
  return id;
}
