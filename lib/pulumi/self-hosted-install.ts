import * as pulumi from '@pulumi/pulumi';
import type { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import { renderSelfHostedInstall, SelfHostedInstallOptions } from '../core/install';
import { KubeObject } from '../core/kube-object';
import {
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
} from '@pulumi/kubernetes/admissionregistration/v1';
import { CustomResourceDefinition } from '@pulumi/kubernetes/apiextensions/v1';
import { DaemonSet } from '@pulumi/kubernetes/apps/v1';
import { ServiceAccount } from '@pulumi/kubernetes/core/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '@pulumi/kubernetes/rbac/v1';
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
  /** The ServiceAccounts of the driver and the provider. */
  public readonly serviceAccounts: ServiceAccount[];
  /** The driver's ClusterRoles and ClusterRoleBindings. */
  public readonly clusterRoles: ClusterRole[];
  public readonly clusterRoleBindings: ClusterRoleBinding[];
  /** Namespaced Roles and RoleBindings (e.g. for synced Secrets). */
  public readonly roles: Role[];
  public readonly roleBindings: RoleBinding[];
  /** The admission policy that checks SecretProviderClasses, and its binding. */
  public readonly admissionPolicies: ValidatingAdmissionPolicy[];
  public readonly admissionPolicyBindings: ValidatingAdmissionPolicyBinding[];
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
    const others = objects
      .filter((object) => !isCrd(object))
      .map((object) =>
        kubeObjectResource(`${name}-${object.kind.toLowerCase()}-${object.metadata.name}`, object, {
          ...common,
          dependsOn: this.crds,
        }),
      );
    const ofKind = <T extends pulumi.CustomResource>(kind: { isInstance(o: unknown): o is T }): T[] =>
      others.filter((r): r is T => kind.isInstance(r));
    this.csiDriver = ofKind(CSIDriver)[0];
    this.daemonSets = ofKind(DaemonSet);
    this.serviceAccounts = ofKind(ServiceAccount);
    this.clusterRoles = ofKind(ClusterRole);
    this.clusterRoleBindings = ofKind(ClusterRoleBinding);
    this.roles = ofKind(Role);
    this.roleBindings = ofKind(RoleBinding);
    this.admissionPolicies = ofKind(ValidatingAdmissionPolicy);
    this.admissionPolicyBindings = ofKind(ValidatingAdmissionPolicyBinding);
    const typed = this.resources().length - this.crds.length;
    if (typed !== others.length) {
      // A kind added to the core's install must get a field here, or it would be reachable from nowhere.
      throw new Error(
        `SelfHostedInstall: ${others.length - typed} rendered object(s) of a kind with no field`,
      );
    }
    this.registerOutputs({
      crds: this.crds,
      csiDriver: this.csiDriver,
      daemonSets: this.daemonSets,
      serviceAccounts: this.serviceAccounts,
      clusterRoles: this.clusterRoles,
      clusterRoleBindings: this.clusterRoleBindings,
      roles: this.roles,
      roleBindings: this.roleBindings,
      admissionPolicies: this.admissionPolicies,
      admissionPolicyBindings: this.admissionPolicyBindings,
    });
  }

  /** Every resource of the install, CRDs first. */
  public resources(): pulumi.CustomResource[] {
    return [
      ...this.crds,
      this.csiDriver,
      ...this.serviceAccounts,
      ...this.clusterRoles,
      ...this.clusterRoleBindings,
      ...this.roles,
      ...this.roleBindings,
      ...this.admissionPolicies,
      ...this.admissionPolicyBindings,
      ...this.daemonSets,
    ].filter((r) => r !== undefined);
  }
}

function isCrd(object: KubeObject): boolean {
  return object.kind === 'CustomResourceDefinition';
}
