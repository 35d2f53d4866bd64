import { IdentityMode } from '../identity';
import { ValidationProblem } from '../validation/validation-error';
import { IDENTITY_BINDING_TOKEN_AUDIENCE, WORKLOAD_IDENTITY_TOKEN_AUDIENCE } from './csi-driver';
import { ResolvedInstallOptions } from './install-options';

// Whether a self-hosted install can serve a SecretProviderClass of the same app: a synced Secret needs
// the sync role, a workload identity SPC the CSIDriver token request. Both are accepted by the
// apiserver and fail only at mount or sync time, so the front ends check them at synth.

/** What an install offers, as its resolved options say. */
export type InstallCapabilities = Pick<
  ResolvedInstallOptions,
  'syncSecrets' | 'workloadIdentity' | 'identityBinding'
>;

/** What a SecretProviderClass needs from the install that serves it. */
export interface SecretProviderClassNeeds {
  readonly identityMode: IdentityMode;
  /** The Secrets its `secretObjects` sync (none: no sync needed). */
  readonly syncedSecretNames: readonly string[];
}

/**
 * The problems an install (`installName` says which, e.g. its construct path) would cause this SPC,
 * each naming the SPC field that needs the capability and the install option that grants it.
 */
export function installCapabilityProblems(
  needs: SecretProviderClassNeeds,
  install: InstallCapabilities,
  installName: string,
): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (needs.syncedSecretNames.length > 0 && !install.syncSecrets) {
    problems.push({
      field: 'secretObjects',
      detail: `syncs ${needs.syncedSecretNames.map((name) => `"${name}"`).join(', ')}, but the install ${installName} has syncSecrets: false, so the driver may not create Secrets and every mount would fail to sync; set syncSecrets: true on the install or remove secretObjects`,
    });
  }
  if (needs.identityMode === IdentityMode.WORKLOAD_IDENTITY && !install.workloadIdentity) {
    problems.push({
      field: 'workloadIdentityClientId',
      detail: `workload identity needs a service-account token for ${WORKLOAD_IDENTITY_TOKEN_AUDIENCE}, but the install ${installName} has workloadIdentity: false, so its CSIDriver requests none and every mount would fail; set workloadIdentity: true on the install or use another identity mode`,
    });
  }
  if (needs.identityMode === IdentityMode.IDENTITY_BINDING && !install.identityBinding) {
    problems.push({
      field: 'identityBindingClientId',
      detail: `identity binding needs a service-account token for ${IDENTITY_BINDING_TOKEN_AUDIENCE}, but the install ${installName} has identityBinding: false, so its CSIDriver requests none and every mount would fail ("service account tokens are required for identity binding"); set identityBinding: true on the install or use another identity mode`,
    });
  }
  return problems;
}
