import { resolveIdentity, KeyVaultIdentityProps, ResolvedIdentity } from './identity';
import {
  validateAnnotations,
  validateDns1123Label,
  validateDns1123Subdomain,
  validateLabels,
} from './validation/kube-names';
import { KubeObject, ObjectMeta } from './kube-object';
import { validateKeyVaultName } from './validation/key-vault-names';
import { optionalString, requireArray, requireString } from './validation/input-guards';
import {
  checkParsedObject,
  KeyVaultObject,
  parseObjectsParameter,
  renderObjectsParameter,
  validateKeyVaultObjects,
} from './key-vault-objects';
import { renderSecretObjects, SecretObject, validateSecretObjects } from './synced-secrets';

// A SecretProviderClass for the Azure provider (upstream-driver §3.1, azure-provider §1), rendered
// as a plain object after every synth-time check.

export const SECRET_PROVIDER_CLASS_API_VERSION = 'secrets-store.csi.x-k8s.io/v1';
export const SECRET_PROVIDER_CLASS_KIND = 'SecretProviderClass';
/** The value of `spec.provider` for the Azure Key Vault provider. */
export const AZURE_PROVIDER_NAME = 'azure';

/** A SecretProviderClass reading Azure Key Vault objects. */
export interface SecretProviderClassProps extends KeyVaultIdentityProps {
  /** Name of the SecretProviderClass; pods reference it in the CSI volume's `secretProviderClass`. */
  readonly name: string;
  /**
   * Namespace; must be the namespace of the pods that mount it.
   * @default - none (the namespace the manifest is applied to)
   */
  readonly namespace?: string;
  /** Name of the Key Vault (not its URL). */
  readonly keyVaultName: string;
  /** Key Vault objects to mount; at least one. */
  readonly objects: readonly KeyVaultObject[];
  /**
   * Kubernetes Secrets to sync from the mounted files (needs the driver's secret sync enabled).
   * @default - no synced Secrets
   */
  readonly secretObjects?: readonly SecretObject[];
  /**
   * Labels on the SecretProviderClass.
   * @default - none
   */
  readonly labels?: Record<string, string>;
  /**
   * Annotations on the SecretProviderClass.
   * @default - none
   */
  readonly annotations?: Record<string, string>;
}

/** Validates everything and returns the resolved identity (used by volume helpers for SP mode). */
export function validateSecretProviderClass(props: SecretProviderClassProps): ResolvedIdentity {
  requireString(props.name, 'name', '"app-secrets"');
  optionalString(props.namespace, 'namespace', '"team-a"');
  requireString(props.keyVaultName, 'keyVaultName', '"kv-team-a"');
  requireArray(
    props.objects,
    'objects',
    "[{ objectName: 'db-password', objectType: KeyVaultObjectType.SECRET }]",
  );
  if (props.secretObjects !== undefined) {
    requireArray(
      props.secretObjects,
      'secretObjects',
      "[{ secretName: 'db', data: [{ objectName: 'db-password', key: 'password' }] }]",
    );
  }
  validateDns1123Subdomain(props.name, 'name');
  if (props.namespace !== undefined) validateDns1123Label(props.namespace, 'namespace');
  validateLabels(props.labels, 'labels');
  validateAnnotations(props.annotations, 'annotations');
  validateKeyVaultName(props.keyVaultName, 'keyVaultName');
  const identity = resolveIdentity(props);
  validateKeyVaultObjects(props.objects, 'objects');
  validateSecretObjects(props.secretObjects ?? [], props.objects, 'secretObjects');
  return identity;
}

/** Renders the SPC `parameters` map (all strings), after validation. */
export function renderSecretProviderClassParameters(props: SecretProviderClassProps): Record<string, string> {
  const identity = validateSecretProviderClass(props);
  const objects = renderObjectsParameter(props.objects);
  // The runtime provider reads exactly this text; prove it accepts what we render.
  parseObjectsParameter(objects).forEach(checkParsedObject);
  return { ...identity.parameters, keyvaultName: props.keyVaultName, objects };
}

/** Renders a validated SecretProviderClass (apiVersion secrets-store.csi.x-k8s.io/v1, provider azure). */
export function renderSecretProviderClass(props: SecretProviderClassProps): KubeObject {
  const parameters = renderSecretProviderClassParameters(props);
  const metadata: ObjectMeta = {
    name: props.name,
    ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
    ...(props.labels && Object.keys(props.labels).length > 0 ? { labels: { ...props.labels } } : {}),
    ...(props.annotations && Object.keys(props.annotations).length > 0
      ? { annotations: { ...props.annotations } }
      : {}),
  };
  const secretObjects = props.secretObjects ?? [];
  return {
    apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
    kind: SECRET_PROVIDER_CLASS_KIND,
    metadata,
    spec: {
      provider: AZURE_PROVIDER_NAME,
      parameters,
      ...(secretObjects.length > 0 ? { secretObjects: renderSecretObjects(secretObjects) } : {}),
    },
  };
}
