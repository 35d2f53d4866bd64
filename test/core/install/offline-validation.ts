// Offline schema validation of rendered objects: kubernetes-models 4 for built-in kinds (it has no
// apiVersion/kind dispatcher, so the map below is it), ajv 8 + our own CRD schema for custom resources.
import Ajv, { ValidateFunction } from 'ajv';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { KubeObject } from '../../../lib/core/kube-object';
import { JsonSchema } from '../../../lib/core/install/crds';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition as unknown as ModelClass,
  'apps/v1/DaemonSet': DaemonSet as unknown as ModelClass,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy':
    ValidatingAdmissionPolicy as unknown as ModelClass,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding':
    ValidatingAdmissionPolicyBinding as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding as unknown as ModelClass,
  'storage.k8s.io/v1/CSIDriver': CSIDriver as unknown as ModelClass,
  'v1/Namespace': Namespace as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
};

/** Validates one built-in object against the Kubernetes OpenAPI schema; throws with ajv's messages. */
export function validateKubeObject(object: KubeObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no kubernetes-models class mapped for ${key}; add it to MODELS`);
  // The models mutate nothing, but copy anyway so a validator can never alter what we snapshot.
  new Model(JSON.parse(JSON.stringify(object)) as never).validate();
}

/** Compiles a CRD version's openAPIV3Schema with ajv, tolerating the Kubernetes extension keywords. */
export function compileCrdSchema(schema: JsonSchema): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-map-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-validations',
  ]) {
    ajv.addKeyword(keyword);
  }
  return ajv.compile(schema);
}
