import { KubeObject } from '../kube-object';
import { SERVE_LAST_KNOWN_CONTENT_PARAMETER } from '../last-known-content';
import { INSTALL_COMMON_LABELS, SECRETS_STORE_API_GROUP } from './names';

// A ValidatingAdmissionPolicy (CEL, admissionregistration.k8s.io/v1, Kubernetes >= 1.30) that turns
// the Azure provider's mount-time errors into apply-time errors: an SPC for `provider: azure`
// without keyvaultName, tenantId or objects, or with more than one identity mode, is rejected when
// it is written instead of surfacing later as FailedMount on every pod. Checks mirror the provider:
// values are trimmed, tenantID wins over tenantId, identity flags use Go strconv.ParseBool.

/** Name of the policy; engineer D's rig and docs refer to it. */
export const AZURE_SPC_ADMISSION_POLICY_NAME = 'aks-secrets-store-azure-secretproviderclass';
/** Name of the binding that enforces the policy (validationActions Deny) cluster-wide. */
export const AZURE_SPC_ADMISSION_POLICY_BINDING_NAME = 'aks-secrets-store-azure-secretproviderclass';

/** The identity-mode flags the Azure provider allows at most one of. */
export const AZURE_IDENTITY_MODE_FLAGS = [
  'usePodIdentity',
  'useVMManagedIdentity',
  'useAzureTokenProxy',
] as const;
/** Spellings Go's strconv.ParseBool reads as true / as false. */
export const GO_PARSEBOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'] as const;
export const GO_PARSEBOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'] as const;

const celList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
/** `params` is always a map here (see the variable below), so `in` and indexing are safe. */
const nonEmpty = (key: string) => `('${key}' in variables.params && variables.params['${key}'].trim() != '')`;

/** One rule of the policy: a CEL expression that must be true, and the message when it is not. */
export interface AdmissionRule {
  readonly expression: string;
  readonly message: string;
  readonly reason: string;
}

export const AZURE_SPC_RULES: readonly AdmissionRule[] = [
  {
    expression: nonEmpty('keyvaultName'),
    message:
      "spec.parameters.keyvaultName is missing or empty: set it to the Key Vault's name (3-24 letters, digits or '-'), e.g. keyvaultName: \"my-vault\"",
    reason: 'Invalid',
  },
  {
    // Key Vault naming: the provider checks the same (length, then characters) only at mount time.
    expression: `!${nonEmpty('keyvaultName')} || variables.params['keyvaultName'].trim().matches('^[-A-Za-z0-9]{3,24}$')`,
    message:
      "spec.parameters.keyvaultName is not a Key Vault name: use 3-24 letters, digits or '-' (the vault's name, not its URL)",
    reason: 'Invalid',
  },
  {
    expression: `${nonEmpty('tenantID')} || ${nonEmpty('tenantId')}`,
    message:
      "spec.parameters.tenantId is missing or empty: set tenantId (or tenantID) to the Key Vault's Entra tenant id; the Azure provider needs it for every identity mode",
    reason: 'Invalid',
  },
  {
    expression: nonEmpty('objects'),
    message:
      'spec.parameters.objects is missing or empty: list the Key Vault objects to mount, e.g. objects: "array:\\n  - |\\n    objectName: my-secret\\n    objectType: secret"',
    reason: 'Invalid',
  },
  ...AZURE_IDENTITY_MODE_FLAGS.map((flag) => ({
    expression: `!('${flag}' in variables.params) || variables.params['${flag}'].trim() in ${celList([
      ...GO_PARSEBOOL_TRUE,
      ...GO_PARSEBOOL_FALSE,
      '',
    ])}`,
    message: `spec.parameters.${flag} is not a boolean the Azure provider can parse: write "true" or "false" (quoted, as every parameter is a string)`,
    reason: 'Invalid',
  })),
  {
    expression: `${celList(AZURE_IDENTITY_MODE_FLAGS)}.filter(flag, flag in variables.params && variables.params[flag].trim() in ${celList(
      GO_PARSEBOOL_TRUE,
    )}).size() <= 1`,
    message:
      'spec.parameters: more than one identity mode is true (usePodIdentity, useVMManagedIdentity, useAzureTokenProxy); the Azure provider allows only one: set the others to "false" or remove them',
    reason: 'Invalid',
  },
  {
    // Our provider parses its own switch as it parses the identity flags (the upstream provider ignores it).
    expression: `!('${SERVE_LAST_KNOWN_CONTENT_PARAMETER}' in variables.params) || variables.params['${SERVE_LAST_KNOWN_CONTENT_PARAMETER}'].trim() in ${celList(
      [...GO_PARSEBOOL_TRUE, ...GO_PARSEBOOL_FALSE, ''],
    )}`,
    message: `spec.parameters.${SERVE_LAST_KNOWN_CONTENT_PARAMETER} is not a boolean this project's provider can parse: write "true" or "false" (quoted, as every parameter is a string)`,
    reason: 'Invalid',
  },
  {
    // Identity binding authenticates as clientID; the provider refuses it without one at mount time.
    expression: `!('useAzureTokenProxy' in variables.params && variables.params['useAzureTokenProxy'].trim() in ${celList(
      GO_PARSEBOOL_TRUE,
    )}) || ${nonEmpty('clientID')}`,
    message:
      'spec.parameters.clientID is missing or empty but useAzureTokenProxy is true, and the Azure provider refuses that ("clientID is required for identity binding"): set clientID to the client id of the user-assigned managed identity the AKS IdentityBinding names',
    reason: 'Invalid',
  },
];

export function azureSpcAdmissionPolicy(): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: AZURE_SPC_ADMISSION_POLICY_NAME, labels: { ...INSTALL_COMMON_LABELS } },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [SECRETS_STORE_API_GROUP],
            apiVersions: ['*'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['secretproviderclasses'],
          },
        ],
      },
      // Other providers' SPCs (and SPCs without a provider) are none of this policy's business.
      matchConditions: [
        {
          name: 'provider-is-azure',
          expression: "has(object.spec) && has(object.spec.provider) && object.spec.provider == 'azure'",
        },
      ],
      variables: [
        {
          name: 'params',
          expression: 'has(object.spec.parameters) ? object.spec.parameters : {}',
        },
      ],
      validations: AZURE_SPC_RULES.map(({ expression, message, reason }) => ({
        expression,
        message,
        reason,
      })),
    },
  };
}

export function azureSpcAdmissionPolicyBinding(): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: AZURE_SPC_ADMISSION_POLICY_BINDING_NAME, labels: { ...INSTALL_COMMON_LABELS } },
    spec: { policyName: AZURE_SPC_ADMISSION_POLICY_NAME, validationActions: ['Deny'] },
  };
}
