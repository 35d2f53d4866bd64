// The SecretProviderClass link, first half: it exists in the pod's namespace, names a provider and
// parameters, and passes lib/core's rules (the field at fault named as the SPC spells it).
import type { SecretProviderClass } from '../driver/cluster/kube/kube-types';
import type { ClusterFacts } from './cluster-facts';
import type { Findings } from './findings';
import { readSecretProviderClass, SpcReading, VolumeContext } from './spc-validation';

export interface SpcChecked {
  readonly spc: SecretProviderClass;
  readonly reading: SpcReading;
}

const MODE_TITLES: Record<SpcReading['identity']['mode'], string> = {
  'workload-identity': 'workload identity',
  'vm-managed-identity': 'VM managed identity',
  'service-principal': 'service principal (nodePublishSecretRef)',
  'pod-identity': 'AAD pod identity (deprecated)',
  'identity-binding': 'identity binding',
  none: 'none',
};

function identityTitle(reading: SpcReading): string {
  const { identity } = reading;
  const id =
    identity.mode === 'vm-managed-identity'
      ? identity.userAssignedIdentityId
        ? `userAssignedIdentityID ${identity.userAssignedIdentityId}`
        : 'system-assigned'
      : identity.clientId
        ? `clientID ${identity.clientId}`
        : undefined;
  return `${MODE_TITLES[identity.mode]}${id ? ` (${id})` : ''}`;
}

/** Checks one SecretProviderClass as the pod's namespace has it; undefined when the walk must stop. */
export async function checkSecretProviderClass(
  facts: ClusterFacts,
  namespace: string,
  name: string,
  volume: VolumeContext & { readonly volumeName?: string },
  findings: Findings,
): Promise<SpcChecked | undefined> {
  const link = 'secret-provider-class' as const;
  const at = volume.volumeName ? ` (volume ${volume.volumeName})` : '';
  if (name === '') {
    findings.add({
      link,
      check: 'spc.not-named',
      status: 'problem',
      summary: `the Secrets Store volume${at} names no SecretProviderClass`,
      cause: 'the driver fails the mount with "secretProviderClass is not set"',
      fix: 'set volumeAttributes.secretProviderClass: <name> on the csi volume',
      field: 'spec.volumes[].csi.volumeAttributes.secretProviderClass',
      catalogueId: 'driver.spc-attribute',
    });
    return undefined;
  }
  const read = await facts.secretProviderClass(namespace, name);
  if (!read.ok && read.reason !== 'not-found') {
    findings.add({
      link,
      check: 'spc.read',
      status: 'skipped',
      summary: `SecretProviderClass ${namespace}/${name} could not be read`,
      cause: read.message,
    });
    return undefined;
  }
  if (!read.ok) {
    const elsewhere = await facts.secretProviderClassesNamed(name);
    const others = elsewhere.ok
      ? elsewhere.value.map((s) => s.metadata.namespace ?? '').filter((ns) => ns !== namespace)
      : [];
    findings.add({
      link,
      check: 'spc.not-found',
      status: 'problem',
      summary: `there is no SecretProviderClass ${name} in namespace ${namespace}${at}`,
      cause: `the driver reads the SecretProviderClass from the pod's namespace only${others.length ? `; one named ${name} exists in namespace ${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''}, which the driver never reads for this pod` : ''} ("failed to get secretproviderclass ${namespace}/${name}, error: ... not found")`,
      fix: others.length
        ? `create the SecretProviderClass in namespace ${namespace} (copy it: \`kubectl get secretproviderclass ${name} -n ${others[0]} -o yaml\`, change metadata.namespace, apply), or move the pod to ${others[0]}`
        : `create the SecretProviderClass ${name} in namespace ${namespace}, or fix volumeAttributes.secretProviderClass of the pod volume`,
      evidence: `kubectl get secretproviderclasses -A --field-selector metadata.name=${name}`,
      catalogueId: 'driver.spc-not-found',
    });
    return undefined;
  }
  const spc = read.value;
  const where = `SecretProviderClass ${namespace}/${name}`;
  const evidence = `kubectl get secretproviderclass -n ${namespace} ${name} -o yaml`;
  if (!spc.spec?.provider) {
    findings.add({
      link,
      check: 'spc.provider',
      status: 'problem',
      summary: `${where} has no spec.provider`,
      cause: 'the driver fails with "provider not set in ..."',
      fix: 'set spec.provider: azure',
      field: 'spec.provider',
      evidence,
    });
    return undefined;
  }
  if (Object.keys(spc.spec.parameters ?? {}).length === 0) {
    findings.add({
      link,
      check: 'spc.parameters',
      status: 'problem',
      summary: `${where} has no spec.parameters`,
      cause: 'the driver fails with "parameters not set in ..."',
      fix: 'set keyvaultName, tenantId, objects and the identity under spec.parameters',
      field: 'spec.parameters',
      evidence,
    });
    return undefined;
  }
  const reading = readSecretProviderClass(spc, volume);
  if (!reading.azure) {
    findings.add({
      link,
      check: 'spc.provider',
      status: 'info',
      summary: `${where} is for provider ${spc.spec.provider}: the doctor checks the parameters of Azure SecretProviderClasses only`,
    });
    return { spc, reading };
  }
  for (const problem of reading.problems) {
    const fileName = /^spec\.secretObjects\[\d+\]\.data\[\d+\]\.objectName$/.test(problem.field);
    findings.add({
      link,
      check: fileName ? 'spc.secret-objects.file-name' : 'spc.invalid',
      status: 'problem',
      summary: fileName
        ? `${where}: secretObjects names a file the volume does not have`
        : `${where}: ${problem.field} is not valid`,
      field: problem.field,
      cause: `${problem.field}: ${problem.detail}`,
      fix: fileName
        ? "make secretObjects[].data[].objectName equal a mounted file name: the object's objectAlias, or its objectName when it has no alias"
        : `fix ${problem.field} as the message says (the same rule the constructs of this package apply at synth time)`,
      evidence,
      ...(fileName ? { catalogueId: 'sync.file-not-found' } : {}),
    });
  }
  if (reading.problems.length > 0) return undefined;
  const names = reading.objects.map((o) => o.objectAlias || o.objectName);
  const files = names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, …`;
  findings.add({
    link,
    check: 'spc.valid',
    status: 'ok',
    summary: `${where}: vault ${reading.vault}, ${reading.objects.length} object(s) (files ${files}), identity ${identityTitle(reading)}${reading.syncedSecrets.length ? `, syncs ${reading.syncedSecrets.map((s) => s.secretName).join(', ')}` : ''}`,
  });
  return { spc, reading };
}
