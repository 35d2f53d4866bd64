import * as pulumi from '@pulumi/pulumi';
import { CustomResource } from '@pulumi/kubernetes/apiextensions';
import { CustomResourceDefinition } from '@pulumi/kubernetes/apiextensions/v1';
import {
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
} from '@pulumi/kubernetes/admissionregistration/v1';
import { DaemonSet } from '@pulumi/kubernetes/apps/v1';
import { ServiceAccount } from '@pulumi/kubernetes/core/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '@pulumi/kubernetes/rbac/v1';
import { CSIDriver } from '@pulumi/kubernetes/storage/v1';
import { KubeObject } from '../core/kube-object';

// Turns a core KubeObject (plain data) into a Pulumi Kubernetes resource of its kind. Typed classes
// for the kinds the core renders; anything else (our SecretProviderClass, a kind added later) goes
// through apiextensions.CustomResource, which registers under the same `kubernetes:<group>/<v>:<Kind>` token.

/* eslint-disable @typescript-eslint/no-explicit-any -- the core object is already a complete, validated manifest */
type KubeResourceClass = new (
  name: string,
  args: any,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

const TYPED_KINDS: Record<string, KubeResourceClass> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
  'storage.k8s.io/v1/CSIDriver': CSIDriver,
  'apps/v1/DaemonSet': DaemonSet,
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': ValidatingAdmissionPolicy,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': ValidatingAdmissionPolicyBinding,
};

/** Creates the Pulumi resource for `object`, named `name`. */
export function kubeObjectResource(
  name: string,
  object: KubeObject,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
  const typed = TYPED_KINDS[`${object.apiVersion}/${object.kind}`];
  return typed ? new typed(name, object, opts) : new CustomResource(name, object as any, opts);
}

/** The `kubernetes:<group>/<version>:<Kind>` type token Pulumi registers `object` under. */
export function kubeTypeToken(object: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const apiVersion = object.apiVersion.includes('/') ? object.apiVersion : `core/${object.apiVersion}`;
  return `kubernetes:${apiVersion}:${object.kind}`;
}
