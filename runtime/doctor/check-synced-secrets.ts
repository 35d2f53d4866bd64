// The SecretProviderClass link, synced Secrets: a pod that reads a Secret the driver syncs (env,
// envFrom, a secret volume) needs it to exist, and the driver creates it only after some pod has mounted
// the SecretProviderClass ("it first must be mounted by at least one pod"), with sync allowed by its RBAC.
import { SECRET_PROVIDER_CLASSES } from '../driver/cluster/kube/kube-resources';
import type { KubeResourceObject, SecretProviderClass } from '../driver/cluster/kube/kube-types';
import type { ClusterFacts } from './cluster-facts';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES } from './cluster-reader';
import type { InstallSeen } from './check-install';
import type { Findings } from './findings';
import type { Subject } from './targets';

/** A read of a Secret by the pod: which Secret, which key (env), how. */
interface SecretUse {
  readonly secret: string;
  readonly key?: string;
  readonly optional: boolean;
  /** e.g. `env SECRET_USERNAME of container busybox`. */
  readonly by: string;
}

function secretUses(subject: Subject): SecretUse[] {
  const uses: SecretUse[] = [];
  for (const container of [...(subject.spec.initContainers ?? []), ...(subject.spec.containers ?? [])]) {
    for (const env of container.env ?? []) {
      const ref = env.valueFrom?.secretKeyRef;
      if (ref?.name)
        uses.push({
          secret: ref.name,
          key: ref.key,
          optional: ref.optional === true,
          by: `env ${env.name} of container ${container.name}`,
        });
    }
    for (const from of container.envFrom ?? []) {
      if (from.secretRef?.name)
        uses.push({
          secret: from.secretRef.name,
          optional: from.secretRef.optional === true,
          by: `envFrom of container ${container.name}`,
        });
    }
  }
  for (const volume of subject.spec.volumes ?? []) {
    if (volume.secret?.secretName)
      uses.push({
        secret: volume.secret.secretName,
        optional: volume.secret.optional === true,
        by: `volume ${volume.name}`,
      });
  }
  return uses;
}

interface ClusterRole extends KubeResourceObject {
  rules?: Array<{ apiGroups?: string[]; resources?: string[]; verbs?: string[] }>;
}
interface ClusterRoleBinding extends KubeResourceObject {
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

/** Whether the driver's ServiceAccount may create Secrets (undefined: RBAC could not be read). */
async function driverMayCreateSecrets(
  facts: ClusterFacts,
  install: InstallSeen,
): Promise<boolean | undefined> {
  const ds = install.driver?.ds;
  if (!ds) return undefined;
  const sa = ds.spec?.template?.spec?.serviceAccountName || 'default';
  const bindings = await facts.reader.readList<ClusterRoleBinding>(CLUSTER_ROLE_BINDINGS);
  if (!bindings.ok) return undefined;
  const roles = bindings.value
    .filter((b) =>
      (b.subjects ?? []).some(
        (s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === ds.metadata.namespace,
      ),
    )
    .filter((b) => b.roleRef?.kind === 'ClusterRole')
    .map((b) => b.roleRef!.name);
  for (const name of roles) {
    const role = await facts.reader.read<ClusterRole>(CLUSTER_ROLES, name);
    if (!role.ok) return undefined;
    const grants = (role.value.rules ?? []).some(
      (r) =>
        (r.apiGroups ?? []).some((g) => g === '' || g === '*') &&
        (r.resources ?? []).some((res) => res === 'secrets' || res === '*') &&
        (r.verbs ?? []).some((v) => v === 'create' || v === '*'),
    );
    if (grants) return true;
  }
  return false;
}

export async function checkSyncedSecrets(
  facts: ClusterFacts,
  subject: Subject,
  install: InstallSeen,
  findings: Findings,
): Promise<void> {
  const link = 'secret-provider-class' as const;
  const ns = subject.namespace;
  const uses = secretUses(subject);
  if (uses.length === 0) return;
  const classes = await facts.reader.readList<SecretProviderClass>(SECRET_PROVIDER_CLASSES, {
    namespace: ns,
  });
  if (!classes.ok) {
    findings.add({
      link,
      check: 'synced-secret',
      status: 'skipped',
      summary: `SecretProviderClasses of ${ns} could not be listed`,
      cause: classes.message,
    });
    return;
  }
  const syncers = new Map<string, { spc: string; keys: string[] }>();
  for (const spc of classes.value) {
    for (const so of spc.spec?.secretObjects ?? []) {
      if (so.secretName && !syncers.has(so.secretName))
        syncers.set(so.secretName, {
          spc: spc.metadata.name ?? '',
          keys: (so.data ?? []).map((d) => d.key ?? ''),
        });
    }
  }
  for (const use of uses) {
    const syncer = syncers.get(use.secret);
    if (!syncer) continue;
    const problem = use.optional ? 'warning' : 'problem';
    if (use.key !== undefined && !syncer.keys.includes(use.key)) {
      findings.add({
        link,
        check: 'synced-secret.key',
        status: problem,
        summary: `${use.by} reads key ${use.key} of Secret ${use.secret}, which SecretProviderClass ${syncer.spc} does not sync`,
        cause: `secretObjects of ${syncer.spc} give Secret ${use.secret} the keys ${syncer.keys.join(', ') || '(none)'}; kubelet fails the container with "couldn't find key ${use.key} in Secret ${ns}/${use.secret}"`,
        fix: `add { objectName: <mounted file>, key: ${use.key} } to the secretObjects entry of ${use.secret}, or read one of its keys`,
        field: 'spec.secretObjects[].data[].key',
        catalogueId: 'container.secret-key',
      });
      if (use.optional) continue;
      return;
    }
    const read = await facts.secretKeys(ns, use.secret);
    if (read.ok) {
      findings.add({
        link,
        check: 'synced-secret',
        status: 'ok',
        summary: `Secret ${ns}/${use.secret} (synced by ${syncer.spc}) exists for ${use.by}`,
      });
      continue;
    }
    if (read.reason !== 'not-found') {
      findings.add({
        link,
        check: 'synced-secret',
        status: 'skipped',
        summary: `Secret ${ns}/${use.secret} could not be read`,
        cause: read.message,
      });
      continue;
    }
    const mountsIt = subject.volumes.some((v) => v.secretProviderClass === syncer.spc);
    const statuses = await facts.podStatuses(ns);
    const mountedBy = statuses.ok
      ? statuses.value
          .filter((s) => s.status?.secretProviderClassName === syncer.spc && s.status?.mounted)
          .map((s) => s.status?.podName ?? '')
      : [];
    const evidence = `kubectl get secretproviderclasspodstatuses -n ${ns} -o custom-columns=POD:.status.podName,SPC:.status.secretProviderClassName,MOUNTED:.status.mounted`;
    if (mountedBy.length === 0 && mountsIt) {
      findings.add({
        link,
        check: 'synced-secret.pending',
        status: 'info',
        summary: `Secret ${ns}/${use.secret} is created once this pod's volume of ${syncer.spc} is mounted (${use.by} waits for it)`,
      });
      continue;
    }
    if (mountedBy.length === 0) {
      findings.add({
        link,
        check: 'synced-secret.no-mounting-pod',
        status: problem,
        summary: `${use.by} reads Secret ${use.secret}, which SecretProviderClass ${syncer.spc} syncs, but no pod has mounted ${syncer.spc}`,
        cause: `the driver creates a synced Secret only while a pod mounts the SecretProviderClass: "in order for a secret to be available through env variables, it first must be mounted by at least one pod". ${subject.label} does not mount it, and no other pod in ${ns} has; kubelet fails the container with 'secret "${use.secret}" not found'`,
        fix: `mount ${syncer.spc} in this pod: add a volume { csi: { driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: { secretProviderClass: ${syncer.spc} } } } and a readOnly volumeMount to one of its containers (the Secret is then created before the container starts)`,
        evidence,
        catalogueId: 'container.secret-not-found',
      });
      if (use.optional) continue;
      return;
    }
    const mayCreate = await driverMayCreateSecrets(facts, install);
    findings.add({
      link,
      check: 'synced-secret.not-synced',
      status: problem,
      summary: `${syncer.spc} is mounted (by ${mountedBy.slice(0, 3).join(', ')}), but its Secret ${ns}/${use.secret} does not exist`,
      cause:
        mayCreate === false
          ? `the driver's ServiceAccount may not create Secrets: secret sync is not enabled in the install`
          : 'the driver did not create it: look for FailedToCreateSecret events on the mounting pod',
      fix:
        mayCreate === false
          ? 'enable sync: SelfHostedInstall syncSecrets: true; upstream chart --set syncSecret.enabled=true (the AKS add-on syncs always)'
          : `\`kubectl get events -n ${ns} --field-selector reason=FailedToCreateSecret\` and the driver log on the node of ${mountedBy[0]}`,
      evidence,
      ...(mayCreate === false ? { catalogueId: 'sync.forbidden' } : {}),
    });
    if (use.optional) continue;
    return;
  }
}
