// Phase 2 of NodePublishVolume: the SecretProviderClass the volume names, from the pod's own namespace,
// with upstream's checks and texts (reference §2.3 steps 7-9). Each failure is Unknown, as upstream's.
import type { SecretProviderClassSource } from '../cluster/ports';
import type { SecretProviderClass } from '../cluster/kube/kube-types';
import { ErrorReason } from '../error-reasons';
import type { PublishRequest } from './publish-request';
import { PublishError } from './publish-error';

/** The SPC of a volume, with the two fields a mount needs checked present. */
export interface ResolvedClass {
  readonly spc: SecretProviderClass;
  /** `spec.provider`: the provider socket name and the metric's `provider` label. */
  readonly provider: string;
  /** `spec.parameters`, non-empty. */
  readonly parameters: Record<string, string>;
}

/**
 * Looks the SPC up and checks it. `label.provider` becomes the SPC's provider as soon as it is known, so a
 * `parameters not set` failure is counted under that provider.
 */
export async function resolveSecretProviderClass(
  source: SecretProviderClassSource,
  request: PublishRequest,
  label: { provider: string },
): Promise<ResolvedClass> {
  const { spcName } = request;
  const namespace = request.pod.namespace;
  if (!spcName)
    throw PublishError.unknown('secretProviderClass is not set', ErrorReason.SecretProviderClassNotFound);
  let spc: SecretProviderClass;
  try {
    spc = await source.get(namespace, spcName);
  } catch (err) {
    throw PublishError.fromCause(
      `failed to get secretproviderclass ${namespace}/${spcName}, error: ${(err as Error).message}`,
      ErrorReason.SecretProviderClassNotFound,
      err,
    );
  }
  const provider = spc.spec?.provider ?? '';
  if (!provider)
    throw PublishError.unknown(`provider not set in ${namespace}/${spcName}`, ErrorReason.ProviderError);
  label.provider = provider;
  const parameters = spc.spec?.parameters ?? {};
  if (Object.keys(parameters).length === 0)
    throw PublishError.unknown(`parameters not set in ${namespace}/${spcName}`, ErrorReason.ProviderError);
  return { spc, provider, parameters };
}
