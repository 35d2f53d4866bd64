import {
  AZURE_SPC_ADMISSION_POLICY_BINDING_NAME,
  AZURE_SPC_ADMISSION_POLICY_NAME,
  azureSpcAdmissionPolicy,
  azureSpcAdmissionPolicyBinding,
} from '../../../lib/core/install';
import {
  AZURE_SPC_RULES,
  GO_PARSEBOOL_FALSE,
  GO_PARSEBOOL_TRUE,
} from '../../../lib/core/install/admission-policy';
import { AZURE_SPC_ADMISSION_CASES } from './admission-cases';
import { validateKubeObject } from './offline-validation';

interface PolicySpec {
  failurePolicy: string;
  matchConstraints: { resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[] };
  matchConditions: { name: string; expression: string }[];
  variables: { name: string; expression: string }[];
  validations: { expression: string; message: string; reason: string }[];
}

describe('Azure SecretProviderClass admission policy', () => {
  const policy = azureSpcAdmissionPolicy();
  const binding = azureSpcAdmissionPolicyBinding();
  const spec = policy.spec as PolicySpec;

  it('matches the snapshot', () => {
    expect([policy, binding]).toMatchSnapshot();
  });

  it('is a valid admissionregistration.k8s.io/v1 policy and binding, cluster-scoped', () => {
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(() => validateKubeObject(policy)).not.toThrow();
    expect(() => validateKubeObject(binding)).not.toThrow();
    expect(policy.metadata.namespace).toBeUndefined();
    expect(binding.metadata.namespace).toBeUndefined();
  });

  it('uses the exported names, and the binding denies', () => {
    expect(policy.metadata.name).toBe(AZURE_SPC_ADMISSION_POLICY_NAME);
    expect(binding.metadata.name).toBe(AZURE_SPC_ADMISSION_POLICY_BINDING_NAME);
    expect(binding.spec).toEqual({
      policyName: AZURE_SPC_ADMISSION_POLICY_NAME,
      validationActions: ['Deny'],
    });
  });

  it('applies to creates and updates of SecretProviderClasses with provider azure only', () => {
    expect(spec.failurePolicy).toBe('Fail');
    expect(spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ['secrets-store.csi.x-k8s.io'],
        apiVersions: ['*'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['secretproviderclasses'],
      },
    ]);
    expect(spec.matchConditions).toEqual([
      {
        name: 'provider-is-azure',
        expression: "has(object.spec) && has(object.spec.provider) && object.spec.provider == 'azure'",
      },
    ]);
    // An SPC without parameters must be denied by the rules, not fail evaluation.
    expect(spec.variables).toEqual([
      { name: 'params', expression: 'has(object.spec.parameters) ? object.spec.parameters : {}' },
    ]);
  });

  it('has one rule per required field, per identity flag format, and one for the identity modes', () => {
    const messages = spec.validations.map((v) => v.message);
    for (const field of [
      'keyvaultName',
      'tenantId',
      'objects',
      'usePodIdentity',
      'useVMManagedIdentity',
      'useAzureTokenProxy',
    ]) {
      expect(messages.some((m) => m.startsWith(`spec.parameters.${field} `))).toBe(true);
    }
    expect(messages.some((m) => m.includes('more than one identity mode'))).toBe(true);
    expect(spec.validations).toHaveLength(AZURE_SPC_RULES.length);
  });

  it('accepts either tenant spelling and counts every ParseBool truthy spelling', () => {
    const tenant = spec.validations.find((v) => v.message.startsWith('spec.parameters.tenantId'))!;
    expect(tenant.expression).toContain("'tenantID' in variables.params");
    expect(tenant.expression).toContain("'tenantId' in variables.params");
    const modes = spec.validations.find((v) => v.message.includes('more than one identity mode'))!;
    for (const truthy of GO_PARSEBOOL_TRUE) expect(modes.expression).toContain(`'${truthy}'`);
    for (const falsy of GO_PARSEBOOL_FALSE) expect(modes.expression).not.toContain(`'${falsy}'`);
    expect(modes.expression).toContain('.size() <= 1');
  });

  it('writes messages the apiserver accepts: one line each, and saying how to fix it', () => {
    for (const { message, reason } of spec.validations) {
      expect(message).not.toMatch(/[\r\n]/);
      expect(message).toMatch(/set|list|write|remove|use/);
      expect(reason).toBe('Invalid');
    }
  });

  it('ships admission cases for the rig whose denials match one of the policy messages', () => {
    const messages = spec.validations.map((v) => v.message);
    const denied = AZURE_SPC_ADMISSION_CASES.filter((c) => c.denied);
    expect(denied.length).toBeGreaterThanOrEqual(6);
    for (const testCase of denied) {
      expect(messages.some((m) => m.includes(testCase.denied!))).toBe(true);
    }
  });
});
