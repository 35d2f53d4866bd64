import * as pulumi from '@pulumi/pulumi';
import type { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import { renderSelfHostedInstall, SelfHostedInstallOptions } from '../core/install';
import { KubeObject } from '../core/kube-object';
import { CustomResourceDefinition } from '@pulumi/kubernetes/apiextensions/v1';
import { DaemonSet } from '@pulumi/kubernetes/apps/v1';
import { CSIDriver } from '@pulumi/kubernetes/storage/v1';
import { componentType } from './component-type';
import { kubeObjectResource } from './kube-object-resource';

/** Options of the self-hosted install; the install options themselves and their rules are the shared core's. */
export interface SelfHostedInstallArgs extends SelfHostedInstallOptions {
  /**
   * Kubernetes provider of the target cluster.
   * @default - the provider inherited from the parent, else the ambient kubeconfig
   */
  kubernetesProvider?: KubernetesProvider;
}

/**
 * The Secrets Store CSI Driver and the Azure provider installed by us (instead of the AKS add-on): CRDs,
 * CSIDriver, RBAC, admission policy and both DaemonSets, rendered by the shared core.
 *
 * The CRDs are created with `retainOnDelete`: removing this component (or switching to the AKS add-on)
 * never deletes the CRDs, and so never deletes the users' SecretProviderClasses, which Kubernetes would
 * garbage-collect with their CRD.
 */
export class SelfHostedInstall extends pulumi.ComponentResource {
  /** The CRDs (retained on delete). */
  public readonly crds: CustomResourceDefinition[];
  /** The CSIDriver `secrets-store.csi.k8s.io`. */
  public readonly csiDriver: CSIDriver;
  /** The driver and provider DaemonSets. */
  public readonly daemonSets: DaemonSet[];

  /** Everything but the CRDs: CSIDriver, ServiceAccounts, RBAC, admission policy, DaemonSets (a getter: the
   * component package schema has no type for a list of mixed kinds). */
  public get components(): pulumi.CustomResource[] {
    return componentsOf.get(this)!;
  }
  /** The rendered objects, in apply order (CRDs first). */
  public readonly objects: KubeObject[];

  constructor(name: string, args: SelfHostedInstallArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const { kubernetesProvider, ...options } = args;
    const objects = renderSelfHostedInstall(options);
    super(componentType('SelfHostedInstall'), name, {}, opts);

    this.objects = objects;
    const common = { parent: this, provider: kubernetesProvider };
    this.crds = objects.filter(isCrd).map(
      (crd) =>
        kubeObjectResource(`${name}-crd-${crd.metadata.name}`, crd, {
          ...common,
          retainOnDelete: true,
        }) as CustomResourceDefinition,
    );
    // The driver watches SecretProviderClasses and the admission policy matches them: both need the CRDs first.
    const components = objects
      .filter((object) => !isCrd(object))
      .map((object) =>
        kubeObjectResource(`${name}-${object.kind.toLowerCase()}-${object.metadata.name}`, object, {
          ...common,
          dependsOn: this.crds,
        }),
      );
    componentsOf.set(this, components);
    this.csiDriver = components.find((r) => CSIDriver.isInstance(r)) as CSIDriver;
    this.daemonSets = components.filter((r) => DaemonSet.isInstance(r)) as DaemonSet[];
    this.registerOutputs({});
  }
}

const componentsOf = new WeakMap<SelfHostedInstall, pulumi.CustomResource[]>();

function isCrd(object: KubeObject): boolean {
  return object.kind === 'CustomResourceDefinition';
}
