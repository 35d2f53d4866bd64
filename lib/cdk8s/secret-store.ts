import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { defaultSecretsStoreMountPath, identityBindingRbac, IdentityMode, ValidationError } from '../core';
import { AbstractPod, Container, IServiceAccount, ServiceAccount, Volume } from './plus';
import { SecretProviderClass, SecretProviderClassProps } from './secret-provider-class';
import { AppRegistry } from './app-registry';
import { atConstruct } from './construct-errors';
import { kubeApiObject } from './kube-api-object';
import { restartOnRotation } from './restart-on-rotation';
import { mountSecretsStore } from './secrets-store-mount';
import { SecretsStoreVolume } from './secrets-store-volume';
import { envFromSyncedSecret } from './synced-secret-env';
import { useWorkloadIdentity, WorkloadIdentityServiceAccount } from './workload-identity';

/** One team's secrets: a SecretProviderClass plus the ServiceAccount its pods run as. */
export interface SecretStoreProps extends SecretProviderClassProps {
  /**
   * Name of the team's ServiceAccount (with workload identity, the federated credential's subject is
   * `system:serviceaccount:<namespace>:<name>`).
   * @default - the SecretProviderClass name
   */
  readonly serviceAccountName?: string;
  /**
   * Create the ServiceAccount. Turn off to reuse one that exists already, e.g. when a second store is wired
   * into the same workload (`serviceAccountName: firstStore.serviceAccount.name`): a pod runs as one
   * ServiceAccount. With workload identity, the store's identity then needs a federated credential for it.
   * @default true
   */
  readonly createServiceAccount?: boolean;
}

/** An env var fed from a key of a Secret synced by the store. */
export interface SyncedSecretEnv {
  /** Name of the synced Secret (a secretObjects secretName). */
  readonly secretName: string;
  /** Key in that Secret. */
  readonly key: string;
}

/** How to wire a workload to the store. */
export interface SecretStoreWiringOptions {
  /**
   * Containers that mount the store and get the env vars.
   * @default - every container of the workload
   */
  readonly containers?: readonly Container[];
  /**
   * Mount path of the objects; each store wired into one container needs its own directory.
   * @default - `/mnt/secrets-store/<SecretProviderClass name>`
   */
  readonly mountPath?: string;
  /**
   * Env vars from synced Secrets, by variable name.
   * @default - none
   */
  readonly env?: Record<string, SyncedSecretEnv>;
  /**
   * Annotate the workload for Reloader so it restarts when a synced Secret used in `env` changes.
   * @default false
   */
  readonly restartOnRotation?: boolean;
}

/**
 * Composite for one team: the SecretProviderClass, a ServiceAccount (annotated for workload
 * identity when that mode is used; with identity binding, allowed to use the identity) and `wire()` to connect a Deployment/Pod: volume, read-only
 * mount, workload identity label, env vars from synced Secrets, optional restart on rotation.
 */
export class SecretStore extends Construct {
  public readonly secretProviderClass: SecretProviderClass;
  /**
   * The ServiceAccount pods must run as; pass it as the workload's `serviceAccount`. With
   * `createServiceAccount: false`, a reference to the existing one.
   */
  public readonly serviceAccount: IServiceAccount;
  /** Whether this store created its ServiceAccount (`createServiceAccount`). */
  public readonly createsServiceAccount: boolean;
  /** Namespace of the SPC, the ServiceAccount and the workloads. */
  public readonly namespace?: string;
  /** With identity binding: the ClusterRole and binding that let the store's ServiceAccount use the identity. */
  public readonly identityBindingRbac?: readonly ApiObject[];

  constructor(scope: Construct, id: string, props: SecretStoreProps) {
    super(scope, id);
    const { serviceAccountName, createServiceAccount, ...spcProps } = props;
    this.secretProviderClass = new SecretProviderClass(this, 'SecretProviderClass', {
      ...spcProps,
      name: props.name ?? id,
    });
    this.namespace = this.secretProviderClass.namespace;
    const saName = serviceAccountName ?? this.secretProviderClass.name;
    this.createsServiceAccount = createServiceAccount ?? true;
    if (!this.createsServiceAccount) {
      this.serviceAccount = ServiceAccount.fromServiceAccountName(this, 'ServiceAccount', saName, {
        ...(this.namespace !== undefined ? { namespaceName: this.namespace } : {}),
      });
    } else if (this.secretProviderClass.identity.mode === IdentityMode.WORKLOAD_IDENTITY) {
      this.refuseSecondServiceAccount(saName);
      this.serviceAccount = new WorkloadIdentityServiceAccount(this, 'ServiceAccount', {
        name: saName,
        namespace: props.namespace,
        clientId: props.workloadIdentityClientId!,
        tenantId: props.tenantId,
      }).serviceAccount;
    } else {
      this.refuseSecondServiceAccount(saName);
      this.serviceAccount = new ServiceAccount(this, 'ServiceAccount', {
        metadata: { name: saName, ...(props.namespace !== undefined ? { namespace: props.namespace } : {}) },
      });
    }
    if (this.secretProviderClass.identity.mode === IdentityMode.IDENTITY_BINDING) {
      this.identityBindingRbac = this.allowIdentityBinding(props.identityBindingClientId!, saName);
    }
  }

  /** Two stores of one namespace creating one ServiceAccount name would render it twice (checked at synth). */
  private refuseSecondServiceAccount(name: string): void {
    const registry = AppRegistry.of(this);
    registry.addServiceAccountCreator(this, this.namespace, name);
    this.node.addValidation({
      validate: () => {
        const first = registry.earlierServiceAccountCreator(this, this.namespace, name);
        if (first === undefined) return [];
        return [
          `serviceAccountName: stores "${first.secretProviderClass.name}" (${first.node.path}) and "${this.secretProviderClass.name}" both create ServiceAccount "${name}" in namespace "${this.namespace ?? '(none)'}"; create "${this.secretProviderClass.name}" with createServiceAccount: false to reuse it, or give it its own serviceAccountName`,
        ];
      },
    });
  }

  private allowIdentityBinding(clientId: string, serviceAccountName: string): ApiObject[] {
    const namespace = this.namespace;
    if (namespace === undefined) {
      throw new ValidationError(
        'namespace',
        'is not set, and identity binding authorises the ServiceAccount by namespace (a ClusterRoleBinding subject); give the SecretStore or its chart a namespace',
        { constructPath: this.node.path },
      );
    }
    const objects = atConstruct(this, () => identityBindingRbac({ clientId, namespace, serviceAccountName }));
    return objects.map((object) => kubeApiObject(this, object));
  }

  /** The read-only CSI volume of the store (shared by every wired workload). */
  public get volume(): Volume {
    return SecretsStoreVolume.fromSecretProviderClass(this.secretProviderClass);
  }

  /**
   * Wires `workload` to this store. With workload identity it must run as the store's ServiceAccount
   * (create it with `serviceAccount: store.serviceAccount`).
   */
  public wire(workload: AbstractPod, opts: SecretStoreWiringOptions = {}): void {
    const spc = this.secretProviderClass;
    const workloadNamespace = workload.metadata.namespace ?? Chart.of(workload).namespace;
    if (workloadNamespace !== this.namespace) {
      throw new ValidationError(
        'workload',
        `"${workload.name}" is in namespace "${workloadNamespace ?? '(none)'}" but SecretProviderClass "${spc.name}" is in "${this.namespace ?? '(none)'}"; a pod can only mount an SPC of its own namespace, so put both in one namespace`,
        { constructPath: workload.node.path },
      );
    }
    // With workload identity the federated credential names this ServiceAccount, with identity binding
    // the ClusterRoleBinding does; other modes do not authenticate as the pod, so any ServiceAccount works there.
    const usesWorkloadIdentity = spc.identity.mode === IdentityMode.WORKLOAD_IDENTITY;
    const authenticatesAsPod = usesWorkloadIdentity || spc.identity.mode === IdentityMode.IDENTITY_BINDING;
    if (authenticatesAsPod && workload.serviceAccount?.name !== this.serviceAccount.name) {
      throw new ValidationError(
        'workload.serviceAccount',
        `"${workload.name}" runs as ${workload.serviceAccount ? `"${workload.serviceAccount.name}"` : 'the default ServiceAccount'}, not the store's "${this.serviceAccount.name}"; create it with serviceAccount: store.serviceAccount`,
        { constructPath: workload.node.path },
      );
    }
    const containers = opts.containers ?? workload.containers;
    if (containers.length === 0) {
      throw new ValidationError(
        'containers',
        `"${workload.name}" has no containers; add the containers before wiring the store`,
        { constructPath: workload.node.path },
      );
    }
    const volume = this.volume;
    if (usesWorkloadIdentity) useWorkloadIdentity(workload);

    const env = Object.entries(opts.env ?? {}).map(([name, ref]) => ({
      name,
      value: envFromSyncedSecret(spc, ref.secretName, ref.key),
      secretName: ref.secretName,
    }));
    for (const container of containers) {
      const path = opts.mountPath ?? defaultSecretsStoreMountPath(spc.name);
      atConstruct(workload, () => mountSecretsStore(container, volume, { path }));
      for (const variable of env) container.env.addVariable(variable.name, variable.value);
    }
    if (opts.restartOnRotation) {
      const secretNames = [...new Set(env.map((variable) => variable.secretName))];
      restartOnRotation(
        workload,
        secretNames.length > 0 ? secretNames : spc.secretObjects.map((s) => s.secretName),
      );
    }
  }
}
