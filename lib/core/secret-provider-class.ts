import { resolveIdentity, KeyVaultIdentityProps, ResolvedIdentity } from './identity';
import {
  validateAnnotations,
  validateDns1123Label,
  validateDns1123Subdomain,
  validateLabels,
} from './validation/kube-names';
import { KubeObject, ObjectMeta } from './kube-object';
import { validateKeyVaultName } from './validation/key-vault-names';
import { ValidationErrors } from './validation/validation-error';
import { optionalBoolean, optionalString, requireArray, requireString } from './validation/input-guards';
import { KeyVaultObject, renderObjectsParameter, validateKeyVaultObjects } from './key-vault-objects';
import { renderSecretObjects, SecretObject, validateSecretObjects } from './synced-secrets';
import { SERVE_LAST_KNOWN_CONTENT_PARAMETER } from './last-known-content';

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
   * Pods start through a Key Vault outage: when Key Vault answers 5xx, times out, throttles past the
   * mount deadline or cannot be reached (never on 401/403/404 or an identity failure), a new pod of
   * the same identity on the same node is given the last content that node fetched for this vault
   * and these objects, with a Warning Event on the pod. Needs our provider with the install's
   * `outageMaxStaleness` (the content's maximum age); the upstream provider ignores the parameter.
   * Rendered as `serveLastKnownContentOnOutage: "true"`.
   * @default false
   */
  readonly serveLastKnownContentOnOutage?: boolean;
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

/** A SecretProviderClass after every synth-time check: its identity and the object to apply. */
export interface ResolvedSecretProviderClass {
  /** The identity mode (service principal mode needs the volume's nodePublishSecretRef). */
  readonly identity: ResolvedIdentity;
  /** The SecretProviderClass object (apiVersion secrets-store.csi.x-k8s.io/v1, provider azure). */
  readonly object: KubeObject;
}

/**
 * Runs every rule once and returns the resolved identity (used by volume helpers for SP mode).
 * Independent groups (names, vault, identity, objects, secretObjects) are all checked, and their
 * problems thrown together; secretObjects are only checked against objects that passed.
 */
export function validateSecretProviderClass(props: SecretProviderClassProps): ResolvedIdentity {
  const errors = new ValidationErrors();
  errors.check(() => {
    requireString(props.name, 'name', '"app-secrets"');
    validateDns1123Subdomain(props.name, 'name');
  });
  errors.check(() => {
    optionalString(props.namespace, 'namespace', '"team-a"');
    if (props.namespace !== undefined) validateDns1123Label(props.namespace, 'namespace');
  });
  errors.check(() => validateLabels(props.labels, 'labels'));
  errors.check(() => validateAnnotations(props.annotations, 'annotations'));
  errors.check(() =>
    optionalBoolean(props.serveLastKnownContentOnOutage, SERVE_LAST_KNOWN_CONTENT_PARAMETER),
  );
  errors.check(() => {
    requireString(props.keyVaultName, 'keyVaultName', '"kv-team-a"');
    validateKeyVaultName(props.keyVaultName, 'keyVaultName');
  });
  const identity = errors.check(() => resolveIdentity(props));
  const objectsValid = errors.check(() => {
    requireArray(
      props.objects,
      'objects',
      "[{ objectName: 'db-password', objectType: KeyVaultObjectType.SECRET }]",
    );
    validateKeyVaultObjects(props.objects, 'objects');
    return true;
  });
  errors.check(() => {
    if (props.secretObjects === undefined) return;
    requireArray(
      props.secretObjects,
      'secretObjects',
      "[{ secretName: 'db', data: [{ objectName: 'db-password', key: 'password' }] }]",
    );
    if (objectsValid) validateSecretObjects(props.secretObjects, props.objects, 'secretObjects');
  });
  errors.throwIfAny();
  return identity!;
}

/** Checks every rule once and renders the SecretProviderClass with its resolved identity. */
export function resolveSecretProviderClass(props: SecretProviderClassProps): ResolvedSecretProviderClass {
  const identity = validateSecretProviderClass(props);
  const metadata: ObjectMeta = {
    name: props.name,
    ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
    ...(props.labels && Object.keys(props.labels).length > 0 ? { labels: { ...props.labels } } : {}),
    ...(props.annotations && Object.keys(props.annotations).length > 0
      ? { annotations: { ...props.annotations } }
      : {}),
  };
  const secretObjects = props.secretObjects ?? [];
  const object: KubeObject = {
    apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
    kind: SECRET_PROVIDER_CLASS_KIND,
    metadata,
    spec: {
      provider: AZURE_PROVIDER_NAME,
      parameters: parametersOf(props, identity),
      ...(secretObjects.length > 0 ? { secretObjects: renderSecretObjects(secretObjects) } : {}),
    },
  };
  return { identity, object };
}

/** Renders the SPC `parameters` map (all strings), after validation. */
export function renderSecretProviderClassParameters(props: SecretProviderClassProps): Record<string, string> {
  return parametersOf(props, validateSecretProviderClass(props));
}

/** Renders a validated SecretProviderClass (apiVersion secrets-store.csi.x-k8s.io/v1, provider azure). */
export function renderSecretProviderClass(props: SecretProviderClassProps): KubeObject {
  return resolveSecretProviderClass(props).object;
}

function parametersOf(props: SecretProviderClassProps, identity: ResolvedIdentity): Record<string, string> {
  return {
    ...identity.parameters,
    keyvaultName: props.keyVaultName,
    objects: renderObjectsParameter(props.objects),
    ...(props.serveLastKnownContentOnOutage === true ? { [SERVE_LAST_KNOWN_CONTENT_PARAMETER]: 'true' } : {}),
  };
}
