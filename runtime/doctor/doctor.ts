// The walk: for each pod examined, the links a mount depends on in the order it needs them (install,
// SecretProviderClass, pod), then the metrics; it stops at the first broken link, after listing every
// problem of the check that found it, and says what it did not get to.
import { SECRETS_STORE_CSI_DRIVER_NAME } from '../../lib/core';
import { checkIdentity } from './check-identity';
import { checkInstall, InstallSeen } from './check-install';
import { checkMetrics } from './check-metrics';
import { checkPod, DiagnosisContext } from './check-pod';
import { checkSecretProviderClass, SpcChecked } from './check-secret-provider-class';
import { checkSyncedSecrets } from './check-synced-secrets';
import { ClusterFacts } from './cluster-facts';
import { ClusterReader, CouldNotCheck } from './cluster-reader';
import { INSTALL_KIND_TITLES } from './daemonsets';
import { DoctorReport, Finding, Findings, LINKS, MountedVolume, safeMessage } from './findings';
import { readSecretProviderClass, SpcReading } from './spc-validation';
import { MAX_PODS, resolveTargets, ResolvedTargets, Subject, TargetRequest } from './targets';

export interface DoctorOptions extends TargetRequest {
  /** Where the driver and provider DaemonSets run. @default looked for in every namespace */
  readonly installNamespace?: string;
  /** Read /metrics through the API server's pod proxy. @default true */
  readonly probeMetrics?: boolean;
  /** Where the kubeconfig came from (for the report). */
  readonly kubeconfigSource: string;
}

interface WalkState {
  readonly facts: ClusterFacts;
  readonly findings: Findings;
  readonly mounted: MountedVolume[];
  readonly installs: InstallSeen[];
  /** The subject being walked when the walk stopped. */
  stoppedAt?: Subject;
}

async function readingFor(
  state: WalkState,
  namespace: string,
  name: string,
  subject: Subject,
): Promise<SpcReading | undefined> {
  const read = await state.facts.secretProviderClass(namespace, name);
  if (!read.ok) return undefined;
  const volume = subject.volumes.find((v) => v.secretProviderClass === name);
  return readSecretProviderClass(read.value, {
    known: subject.pod !== undefined || subject.volumes.length > 0,
    nodePublishSecretName: volume?.nodePublishSecretName,
  });
}

async function walkSubject(state: WalkState, subject: Subject): Promise<void> {
  const { facts, findings } = state;
  const ns = subject.namespace;
  const node = subject.spec.nodeName;

  // The install each driver name needs, knowing what the SecretProviderClasses ask of it.
  let install: InstallSeen = {};
  const installs: InstallSeen[] = [];
  const byDriver = new Map<string, string[]>();
  for (const volume of subject.volumes)
    byDriver.set(volume.driver, [...(byDriver.get(volume.driver) ?? []), volume.secretProviderClass]);
  const readings = new Map<string, SpcReading>();
  for (const [driverName, classes] of byDriver) {
    const providers = new Set<string>();
    for (const name of classes) {
      const reading = await readingFor(state, ns, name, subject);
      const spc = await facts.secretProviderClass(ns, name);
      if (reading) readings.set(name, reading);
      providers.add(spc.ok && spc.value.spec?.provider ? spc.value.spec.provider : 'azure');
    }
    const modes = classes.map((name) => readings.get(name)?.identity.mode);
    install = await checkInstall(
      facts,
      {
        driverName,
        node,
        providers: [...providers],
        workloadIdentity: modes.includes('workload-identity'),
        identityBinding: modes.includes('identity-binding'),
      },
      findings,
    );
    state.installs.push(install);
    installs.push(install);
    if (findings.stopped) return;
  }

  let first: SpcChecked | undefined;
  for (const volume of subject.volumes) {
    const checked = await checkSecretProviderClass(
      facts,
      ns,
      volume.secretProviderClass,
      { known: true, nodePublishSecretName: volume.nodePublishSecretName, volumeName: volume.name },
      findings,
    );
    if (findings.stopped) return;
    if (!checked) continue;
    first ??= checked;
    if (checked.reading.azure) await checkIdentity(facts, subject, volume, checked.reading, findings);
    if (findings.stopped) return;
  }
  await checkSyncedSecrets(facts, subject, install, findings);
  if (findings.stopped) return;

  const context = diagnosisContext(subject, first?.reading, byDriver.keys().next().value);
  state.mounted.push(...(await checkPod(facts, subject, context, findings)));
  if (findings.stopped) return;
  for (const finding of installs.flatMap((i) => i.deferred ?? [])) findings.add(finding);
}

function diagnosisContext(
  subject: Subject,
  reading: SpcReading | undefined,
  driver: string | undefined,
): DiagnosisContext {
  return {
    namespace: subject.namespace,
    pod: subject.pod?.metadata.name,
    node: subject.spec.nodeName,
    serviceAccount: subject.spec.serviceAccountName || 'default',
    spc: subject.volumes[0]?.secretProviderClass,
    vault: reading?.vault,
    clientId: reading?.identity.clientId || reading?.identity.userAssignedIdentityId,
    tenantId: reading?.identity.tenantId,
    driver: driver ?? SECRETS_STORE_CSI_DRIVER_NAME,
  };
}

/** A SecretProviderClass no examined pod mounts: the install in general, then the class itself. */
async function walkClassAlone(state: WalkState, namespace: string, name: string): Promise<void> {
  const read = await state.facts.secretProviderClass(namespace, name);
  const reading = read.ok ? readSecretProviderClass(read.value, { known: false }) : undefined;
  const install = await checkInstall(
    state.facts,
    {
      driverName: SECRETS_STORE_CSI_DRIVER_NAME,
      providers: [read.ok && read.value.spec?.provider ? read.value.spec.provider : 'azure'],
      workloadIdentity: reading?.identity.mode === 'workload-identity',
      identityBinding: reading?.identity.mode === 'identity-binding',
    },
    state.findings,
  );
  state.installs.push(install);
  if (state.findings.stopped) return;
  await checkSecretProviderClass(state.facts, namespace, name, { known: false }, state.findings);
  if (!state.findings.stopped)
    state.findings.add({
      link: 'pod',
      check: 'pod.none',
      status: 'info',
      summary: `no pod in ${namespace} mounts SecretProviderClass ${name}`,
    });
}

/** Problems that make a mount fail, so the pod's FailedMount is their evidence. */
const MOUNT_BREAKING =
  /^(install\.(driver|provider|csidriver\.(missing|pod-info|ephemeral|token-requests))|spc\.|identity\.|pod\.volume)/;

/** The standing failure of the pod where the walk stopped, attached to a problem found before the pod link. */
async function withEvidence(state: WalkState, problem: Finding): Promise<Finding> {
  const pod = state.stoppedAt?.pod;
  if (problem.link === 'pod' || problem.message || !pod || !MOUNT_BREAKING.test(problem.check))
    return problem;
  const events = await state.facts.podEvents(state.stoppedAt!.namespace, pod.metadata.name ?? '');
  if (!events.ok) return problem;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const failure = phase === 'Pending' ? events.value.find((e) => e.reason === 'FailedMount') : undefined;
  if (!failure?.message) return problem;
  return { ...problem, message: safeMessage(failure.message) };
}

function couldNotCheck(
  options: DoctorOptions,
  reader: ClusterReader,
  err: CouldNotCheck,
  partial?: Partial<DoctorReport>,
): DoctorReport {
  const finding: Finding = {
    link: 'install',
    check: 'doctor.could-not-check',
    status: 'skipped',
    summary: err.message,
    fix: err.fix,
  };
  return {
    target: {
      namespace: options.namespace,
      requested:
        partial?.target?.requested ??
        options.pod ??
        options.workload?.name ??
        options.secretProviderClass ??
        `namespace ${options.namespace}`,
      pods: [],
      secretProviderClasses: [],
      nodes: [],
      server: reader.server,
      kubeconfig: options.kubeconfigSource,
    },
    result: 'could-not-check',
    exitCode: 2,
    findings: [...(partial?.findings ?? []), finding],
    firstProblem: undefined,
    notChecked: [],
    mounted: [],
    apiRequests: reader.requestCount,
  };
}

export async function runDoctor(reader: ClusterReader, options: DoctorOptions): Promise<DoctorReport> {
  let targets: ResolvedTargets;
  try {
    targets = await resolveTargets(reader, options);
  } catch (err) {
    if (err instanceof CouldNotCheck) return couldNotCheck(options, reader, err);
    throw err;
  }
  const state: WalkState = {
    facts: new ClusterFacts(reader, options.installNamespace),
    findings: new Findings(),
    mounted: [],
    installs: [],
  };
  try {
    for (const subject of targets.subjects) {
      await walkSubject(state, subject);
      if (state.findings.stopped) {
        state.stoppedAt = subject;
        break;
      }
    }
    const mountedClasses = new Set(
      targets.subjects.flatMap((s) => s.volumes.map((v) => v.secretProviderClass)),
    );
    for (const name of targets.secretProviderClasses) {
      if (state.findings.stopped || mountedClasses.has(name)) continue;
      await walkClassAlone(state, options.namespace, name);
    }
    if (targets.omittedPods > 0)
      state.findings.add({
        link: 'pod',
        check: 'pod.bound',
        status: 'info',
        summary: `${targets.omittedPods} more pod(s) not examined (at most ${MAX_PODS} per run); name one with --pod`,
      });
    if (!state.findings.stopped && state.installs[0])
      await checkMetrics(state.facts, state.installs[0], state.findings, options.probeMetrics ?? true);
  } catch (err) {
    if (err instanceof CouldNotCheck)
      return couldNotCheck(options, reader, err, {
        findings: state.findings.all,
        target: { requested: targets.requested } as DoctorReport['target'],
      });
    throw err;
  }

  const found = state.findings.firstProblem;
  const firstProblem = found ? await withEvidence(state, found) : undefined;
  const findings = state.findings.all.map((f) => (f === found ? firstProblem! : f));
  const kinds = [...new Set(state.installs.map((i) => i.kind).filter((k) => k !== undefined))];
  // Links after the broken one that the walk did not get to (a deferred problem leaves them checked).
  const notChecked = firstProblem
    ? LINKS.slice(LINKS.indexOf(firstProblem.link) + 1).filter(
        (link) => link === 'metrics' || !findings.some((f) => f.link === link),
      )
    : [];
  return {
    target: {
      namespace: options.namespace,
      requested: targets.requested,
      pods: targets.subjects.map((s) => s.label),
      secretProviderClasses: [
        ...new Set([
          ...targets.subjects.flatMap((s) => s.volumes.map((v) => v.secretProviderClass)),
          ...targets.secretProviderClasses,
        ]),
      ],
      nodes: [...new Set(targets.subjects.flatMap((s) => (s.spec.nodeName ? [s.spec.nodeName] : [])))],
      ...(kinds.length ? { install: kinds.map((k) => INSTALL_KIND_TITLES[k]).join(' + ') } : {}),
      server: reader.server,
      kubeconfig: options.kubeconfigSource,
    },
    result: firstProblem ? 'problem' : 'healthy',
    exitCode: firstProblem ? 1 : 0,
    findings,
    ...(firstProblem ? { firstProblem } : {}),
    notChecked,
    mounted: state.mounted,
    apiRequests: reader.requestCount,
  };
}
