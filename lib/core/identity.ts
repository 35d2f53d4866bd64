import { isDns1123Subdomain } from './validation/kube-names';
import { optionalBoolean, optionalString, requireString } from './validation/input-guards';
import { ValidationError } from './validation/validation-error';

// How the Azure provider authenticates to Key Vault (azure-provider §3) and the SPC parameters that
// select it. Union-free on purpose: Pulumi component args cannot carry union types, so the modes are
// optional fields and "exactly one" is checked at runtime.

/** Azure clouds the provider's `cloudName` accepts (azure-provider §1.1). */
export const AzureCloud = {
  PUBLIC: 'AzurePublicCloud',
  US_GOVERNMENT: 'AzureUSGovernmentCloud',
  CHINA: 'AzureChinaCloud',
  /** Needs `cloudEnvFileName`: a JSON environment file readable by the provider. */
  STACK: 'AzureStackCloud',
} as const;
/** One of the values of `AzureCloud` (`AzureCloud.X` or its literal text). */
export type AzureCloud = (typeof AzureCloud)[keyof typeof AzureCloud];

/** The identity mode an SPC selects, after validation. */
export enum IdentityMode {
  WORKLOAD_IDENTITY = 'WorkloadIdentity',
  VM_MANAGED_IDENTITY = 'VMManagedIdentity',
  SERVICE_PRINCIPAL = 'ServicePrincipal',
  /** AKS identity binding (`useAzureTokenProxy`): the provider exchanges the pod's token through AKS's token proxy. */
  IDENTITY_BINDING = 'IdentityBinding',
}

/** Identity and tenant of a SecretProviderClass. Set exactly one identity mode. */
export interface KeyVaultIdentityProps {
  /**
   * Workload identity (recommended): client id of the Entra app or user-assigned managed identity
   * federated with the pod's ServiceAccount. Rendered as `clientID`.
   * @default - workload identity is not used
   */
  readonly workloadIdentityClientId?: string;
  /**
   * Use the node's (VM/VMSS) managed identity through IMDS. Without `userAssignedIdentityClientId`
   * this is the system-assigned identity. Any pod on the node can use it.
   * @default - true when `userAssignedIdentityClientId` is set, else false
   */
  readonly vmManagedIdentity?: boolean;
  /**
   * Client id of a user-assigned managed identity on the nodes, e.g. the AKS add-on identity
   * (`addonProfiles.azureKeyvaultSecretsProvider.identity.clientId`). Implies `vmManagedIdentity`.
   * @default - system-assigned when `vmManagedIdentity` is true
   */
  readonly userAssignedIdentityClientId?: string;
  /**
   * Service principal: name of a Secret in the pod's namespace with keys `clientid` and
   * `clientsecret`, passed as the volume's `nodePublishSecretRef`.
   * @default - no service principal
   */
  readonly servicePrincipalSecretName?: string;
  /**
   * AKS identity binding (AKS only, Azure provider v1.8+): client id of the user-assigned managed
   * identity an AKS IdentityBinding maps to this cluster, so one federated credential serves any number
   * of ServiceAccounts (workload identity allows 20 per identity). Rendered as `useAzureTokenProxy: "true"`
   * and `clientID`. The install's CSIDriver must request tokens for `api://AKSIdentityBinding`, and the
   * pod's ServiceAccount must be allowed to use the identity (`identityBindingRbac`).
   * @default - identity binding is not used
   */
  readonly identityBindingClientId?: string;
  /** Entra tenant id (GUID) of the vault, or "adfs" for Azure Stack with AD FS. Required in every mode. */
  readonly tenantId: string;
  /**
   * Azure cloud of the vault.
   * @default - the provider's `--cloud-name` (AzurePublicCloud)
   */
  readonly cloudName?: AzureCloud;
  /**
   * Path, inside the provider container, of the Azure Stack environment JSON file. Only with
   * `cloudName: AzureCloud.STACK`.
   * @default - none
   */
  readonly cloudEnvFileName?: string;
}

/** The validated identity. */
export interface ResolvedIdentity {
  readonly mode: IdentityMode;
  /** Secret name for the volume's nodePublishSecretRef (service principal mode only). */
  readonly nodePublishSecretName?: string;
  /** The SPC `parameters` this identity contributes (all strings). */
  readonly parameters: Record<string, string>;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MODE_FIELDS =
  'workloadIdentityClientId, identityBindingClientId, vmManagedIdentity (optionally with userAssignedIdentityClientId) or servicePrincipalSecretName';
/** The Azure provider's own words when two of its identity booleans are true (pkg/provider/provider.go). */
const UPSTREAM_ONE_MODE =
  'only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy';

/** Throws a ValidationError naming `field` when `value` is not a GUID; `what` says which id is expected. */
export function validateGuid(value: string, field: string, what: string): void {
  if (!GUID.test(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a GUID; use the ${what} (form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`,
    );
  }
}

/** Throws a ValidationError naming `field` unless `clientId` is a GUID, as a workload identity client id must be. */
export function validateWorkloadIdentityClientId(clientId: string, field: string): void {
  validateGuid(clientId, field, 'client id of the federated app or user-assigned identity');
}

/**
 * Throws a ValidationError naming `field` unless `clientId` is the GUID client id of a user-assigned
 * identity, which identity binding needs ("clientID is required for identity binding" upstream).
 */
export function validateIdentityBindingClientId(clientId: string, field: string): void {
  if (clientId === '') {
    throw new ValidationError(
      field,
      'is empty, and the provider refuses identity binding without it ("clientID is required for identity binding"); set the client id of the user-assigned managed identity the AKS IdentityBinding names',
    );
  }
  validateGuid(
    clientId,
    field,
    'client id of the user-assigned managed identity the AKS IdentityBinding names',
  );
}

/** Validates the identity props and returns the mode and its SPC parameters. */
export function resolveIdentity(props: KeyVaultIdentityProps, field = ''): ResolvedIdentity {
  const at = (name: string): string => (field ? `${field}.${name}` : name);

  if (props.tenantId === undefined || props.tenantId === '') {
    throw new ValidationError(
      at('tenantId'),
      'is required in every identity mode; use the Entra tenant id (GUID) of the vault, e.g. from `az account show --query tenantId`',
    );
  }
  requireString(props.tenantId, at('tenantId'), '"72f988bf-86f1-41af-91ab-2d7cd011db47"');
  optionalString(props.workloadIdentityClientId, at('workloadIdentityClientId'), 'the client id GUID');
  optionalBoolean(props.vmManagedIdentity, at('vmManagedIdentity'));
  optionalString(
    props.userAssignedIdentityClientId,
    at('userAssignedIdentityClientId'),
    'the client id GUID',
  );
  optionalString(props.servicePrincipalSecretName, at('servicePrincipalSecretName'), '"secrets-store-creds"');
  optionalString(props.identityBindingClientId, at('identityBindingClientId'), 'the client id GUID');
  optionalString(props.cloudEnvFileName, at('cloudEnvFileName'), '"/etc/kubernetes/azurestackcloud.json"');
  if (props.tenantId !== 'adfs')
    validateGuid(props.tenantId, at('tenantId'), 'Entra tenant id of the vault, or "adfs"');

  if (props.cloudName !== undefined && !(Object.values(AzureCloud) as string[]).includes(props.cloudName)) {
    throw new ValidationError(
      at('cloudName'),
      `"${props.cloudName}" is not a supported cloud; use one of ${Object.values(AzureCloud).join(', ')} (AzureCloud)`,
    );
  }
  if (props.cloudEnvFileName !== undefined && props.cloudName !== AzureCloud.STACK) {
    throw new ValidationError(
      at('cloudEnvFileName'),
      `"${props.cloudEnvFileName}" is only read for cloudName AzureStackCloud; set cloudName: AzureCloud.STACK or remove cloudEnvFileName`,
    );
  }
  if (props.cloudName === AzureCloud.STACK && !props.cloudEnvFileName) {
    throw new ValidationError(
      at('cloudEnvFileName'),
      'is required for cloudName AzureStackCloud; set it to the path of the Azure Stack environment JSON file in the provider container',
    );
  }

  const usesVm = props.vmManagedIdentity === true || props.userAssignedIdentityClientId !== undefined;
  if (props.vmManagedIdentity === false && props.userAssignedIdentityClientId !== undefined) {
    throw new ValidationError(
      at('vmManagedIdentity'),
      'is false but userAssignedIdentityClientId is set, and a user-assigned identity is used through the VM managed identity mode; remove vmManagedIdentity: false',
    );
  }
  const chosen = [
    props.workloadIdentityClientId !== undefined ? 'workloadIdentityClientId' : '',
    props.identityBindingClientId !== undefined ? 'identityBindingClientId' : '',
    usesVm
      ? props.userAssignedIdentityClientId !== undefined
        ? 'userAssignedIdentityClientId'
        : 'vmManagedIdentity'
      : '',
    props.servicePrincipalSecretName !== undefined ? 'servicePrincipalSecretName' : '',
  ].filter((name) => name !== '');
  if (chosen.length !== 1) {
    throw new ValidationError(
      field || 'identity',
      chosen.length === 0
        ? `no identity mode is set; set exactly one of ${MODE_FIELDS} (workload identity is recommended)`
        : `${chosen.join(' and ')} are both set, but the provider uses one identity mode at a time${
            props.identityBindingClientId !== undefined && usesVm ? ` ("${UPSTREAM_ONE_MODE}")` : ''
          }; keep exactly one of ${MODE_FIELDS}`,
    );
  }

  const common: Record<string, string> = { usePodIdentity: 'false', tenantId: props.tenantId };
  if (props.cloudName !== undefined) common.cloudName = props.cloudName;
  if (props.cloudEnvFileName !== undefined) common.cloudEnvFileName = props.cloudEnvFileName;

  if (props.workloadIdentityClientId !== undefined) {
    validateWorkloadIdentityClientId(props.workloadIdentityClientId, at('workloadIdentityClientId'));
    return {
      mode: IdentityMode.WORKLOAD_IDENTITY,
      parameters: { ...common, useVMManagedIdentity: 'false', clientID: props.workloadIdentityClientId },
    };
  }
  if (props.identityBindingClientId !== undefined) {
    validateIdentityBindingClientId(props.identityBindingClientId, at('identityBindingClientId'));
    return {
      mode: IdentityMode.IDENTITY_BINDING,
      parameters: {
        ...common,
        useVMManagedIdentity: 'false',
        useAzureTokenProxy: 'true',
        clientID: props.identityBindingClientId,
      },
    };
  }
  if (usesVm) {
    if (props.userAssignedIdentityClientId !== undefined) {
      validateGuid(
        props.userAssignedIdentityClientId,
        at('userAssignedIdentityClientId'),
        'client id (not the object or resource id) of the user-assigned identity',
      );
    }
    return {
      mode: IdentityMode.VM_MANAGED_IDENTITY,
      parameters: {
        ...common,
        useVMManagedIdentity: 'true',
        userAssignedIdentityID: props.userAssignedIdentityClientId ?? '',
      },
    };
  }
  const secretName = props.servicePrincipalSecretName!;
  if (!isDns1123Subdomain(secretName)) {
    throw new ValidationError(
      at('servicePrincipalSecretName'),
      `"${secretName}" is not a valid Secret name; use lower-case letters, digits, '-' and '.' (e.g. "secrets-store-creds")`,
    );
  }
  return {
    mode: IdentityMode.SERVICE_PRINCIPAL,
    nodePublishSecretName: secretName,
    parameters: { ...common, useVMManagedIdentity: 'false' },
  };
}
