import { KubeObject } from '../kube-object';
import { INSTALL_COMMON_LABELS, SECRETS_STORE_API_GROUP } from './names';

// The two CustomResourceDefinitions of the Secrets Store CSI Driver, schema written here to match
// upstream v1.6 field for field: v1 served + storage, v1alpha1 still served but deprecated, no
// subresources, no printer columns, every field optional. Types are strict, so a parameter value
// that is not a string (`usePodIdentity: false`) is rejected by the apiserver exactly as upstream.

/** Warning the apiserver returns to clients that still use v1alpha1 (upstream's text). */
export const V1ALPHA1_DEPRECATION_WARNING = `${SECRETS_STORE_API_GROUP}/v1alpha1 is deprecated. Use ${SECRETS_STORE_API_GROUP}/v1 instead.`;

/** A JSON-schema node as used in openAPIV3Schema. */
export type JsonSchema = { readonly [keyword: string]: unknown };

const STRING: JsonSchema = { type: 'string' };
const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };

/** Fields every Kubernetes object has; `metadata` stays opaque as in generated CRDs. */
const OBJECT_ENVELOPE: Record<string, JsonSchema> = {
  apiVersion: {
    type: 'string',
    description: 'APIVersion defines the versioned schema of this representation of an object.',
  },
  kind: {
    type: 'string',
    description: 'Kind is a string value representing the REST resource this object represents.',
  },
  metadata: { type: 'object' },
};

const SECRET_OBJECT_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'SecretObject defines the desired state of a synced Kubernetes Secret.',
  properties: {
    secretName: { type: 'string', description: 'name of the Kubernetes Secret object' },
    type: {
      type: 'string',
      description: 'type of the Kubernetes Secret object, e.g. Opaque, kubernetes.io/tls',
    },
    labels: { ...STRING_MAP, description: 'labels of the Kubernetes Secret object' },
    annotations: { ...STRING_MAP, description: 'annotations of the Kubernetes Secret object' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        description: 'SecretObjectData defines the desired state of a synced Secret data key.',
        properties: {
          objectName: {
            type: 'string',
            description: 'name of the object to sync (its file name in the mount)',
          },
          key: { type: 'string', description: 'data field to populate' },
        },
      },
    },
  },
};

function secretProviderClassSchema(version: 'v1' | 'v1alpha1'): JsonSchema {
  // v1alpha1 kept `status.byPod`, which no current driver writes; v1's status is an empty object.
  const status: JsonSchema =
    version === 'v1'
      ? {
          type: 'object',
          description: 'SecretProviderClassStatus defines the observed state of SecretProviderClass',
        }
      : {
          type: 'object',
          properties: {
            byPod: {
              type: 'array',
              items: { type: 'object', properties: { id: STRING, namespace: STRING } },
            },
          },
        };
  return {
    type: 'object',
    description: 'SecretProviderClass is the Schema for the secretproviderclasses API',
    properties: {
      ...OBJECT_ENVELOPE,
      spec: {
        type: 'object',
        description: 'SecretProviderClassSpec defines the desired state of SecretProviderClass',
        properties: {
          provider: { type: 'string', description: 'Configuration for provider name' },
          parameters: { ...STRING_MAP, description: 'Configuration for specific provider' },
          secretObjects: { type: 'array', items: SECRET_OBJECT_SCHEMA },
        },
      },
      status,
    },
  };
}

const SECRET_PROVIDER_CLASS_POD_STATUS_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'SecretProviderClassPodStatus is the Schema for the secretproviderclassespodstatus API',
  properties: {
    ...OBJECT_ENVELOPE,
    // No spec: the driver writes only status, with a plain update (status is not a subresource).
    status: {
      type: 'object',
      description:
        'SecretProviderClassPodStatusStatus defines the observed state of SecretProviderClassPodStatus',
      properties: {
        podName: STRING,
        secretProviderClassName: STRING,
        mounted: { type: 'boolean' },
        targetPath: STRING,
        objects: {
          type: 'array',
          items: {
            type: 'object',
            description: 'SecretProviderClassObject defines the object fetched from external secrets store',
            properties: { id: STRING, version: STRING },
          },
        },
      },
    },
  },
};

interface CrdNames {
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
}

function customResourceDefinition(
  names: CrdNames,
  schemaFor: (version: 'v1' | 'v1alpha1') => JsonSchema,
): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${SECRETS_STORE_API_GROUP}`, labels: { ...INSTALL_COMMON_LABELS } },
    spec: {
      group: SECRETS_STORE_API_GROUP,
      names,
      scope: 'Namespaced',
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schemaFor('v1') } },
        {
          name: 'v1alpha1',
          served: true,
          storage: false,
          deprecated: true,
          deprecationWarning: V1ALPHA1_DEPRECATION_WARNING,
          schema: { openAPIV3Schema: schemaFor('v1alpha1') },
        },
      ],
    },
  };
}

/** CRD `secretproviderclasses.secrets-store.csi.x-k8s.io`. */
export function secretProviderClassCrd(): KubeObject {
  return customResourceDefinition(
    {
      kind: 'SecretProviderClass',
      listKind: 'SecretProviderClassList',
      plural: 'secretproviderclasses',
      singular: 'secretproviderclass',
    },
    secretProviderClassSchema,
  );
}

/** CRD `secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io`. */
export function secretProviderClassPodStatusCrd(): KubeObject {
  return customResourceDefinition(
    {
      kind: 'SecretProviderClassPodStatus',
      listKind: 'SecretProviderClassPodStatusList',
      plural: 'secretproviderclasspodstatuses',
      singular: 'secretproviderclasspodstatus',
    },
    () => SECRET_PROVIDER_CLASS_POD_STATUS_SCHEMA,
  );
}

/** The v1 openAPIV3Schema of a CRD rendered here; for offline validation of instances (ajv). */
export function crdVersionSchema(crd: KubeObject, version: 'v1' | 'v1alpha1'): JsonSchema {
  const versions = (crd.spec as { versions: { name: string; schema: { openAPIV3Schema: JsonSchema } }[] })
    .versions;
  const found = versions.find((v) => v.name === version);
  if (!found) throw new Error(`${crd.metadata.name} has no version ${version}`);
  return found.schema.openAPIV3Schema;
}
