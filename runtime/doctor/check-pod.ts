// The pod link: its volumes as the driver wants them (read-only), the failures kubelet and the driver
// recorded on it (FailedMount and friends, and containers waiting on a missing Secret), each read
// through the failure catalogue, and the SecretProviderClassPodStatus of each volume: what is mounted.
import type { KubeEvent } from '../driver/cluster/kube/kube-types';
import { type ClusterFacts, eventTime } from './cluster-facts';
import { diagnoseMessage, fillPlaceholders } from './failure-catalogue';
import { Finding, Findings, MountedVolume, safeMessage, safeText } from './findings';
import type { Subject } from './targets';

/** Values the catalogue's `{name}` placeholders are filled from. */
export type DiagnosisContext = Readonly<Record<string, string | undefined>>;

/** Reasons of the events a broken mount leaves on a pod. */
const FAILURE_REASONS = new Set(['FailedMount', 'MountRotationFailed', 'FailedToCreateSecret', 'Failed']);
/** A sync or rotation failure older than this is history (upstream retries sync every 5 minutes). */
const RECENT_MS = 15 * 60_000;

function occurrences(e: KubeEvent): string {
  const series = (e as { series?: { count?: number } }).series?.count;
  const count = e.count ?? series;
  return count && count > 1 ? ` (${count} times)` : '';
}

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** A finding for one failure text, read through the catalogue. */
export function failureFinding(
  check: string,
  summary: string,
  message: string,
  context: DiagnosisContext,
  evidence: string,
): Finding {
  const text = safeMessage(message);
  const diagnosis = diagnoseMessage(message);
  if (!diagnosis) {
    return {
      link: 'pod',
      check,
      status: 'problem',
      summary,
      message: text,
      cause: 'a failure the doctor does not know (its text is above)',
      fix: 'read the message; the driver and provider logs on the node say more (`kubectl logs -n <install namespace> <driver or provider pod>`)',
      evidence,
    };
  }
  const values = { ...context, ...diagnosis.values };
  const safe = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, v === undefined ? undefined : safeText(v, 253)]),
  );
  return {
    link: 'pod',
    check,
    status: 'problem',
    summary,
    message: text,
    cause: fillPlaceholders(diagnosis.entry.cause, safe),
    fix: fillPlaceholders(diagnosis.entry.fix, safe),
    evidence: diagnosis.entry.evidence
      ? `${fillPlaceholders(diagnosis.entry.evidence, safe)}; ${evidence}`
      : evidence,
    catalogueId: diagnosis.entry.id,
  };
}

/** The newest failure that still stands, and how many earlier mount failures there were. */
function standingFailure(
  subject: Subject,
  events: readonly KubeEvent[],
): { event?: KubeEvent; pastMountFailures: KubeEvent[] } {
  const pod = subject.pod!;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const uid = pod.metadata.uid;
  const own = events
    .filter((e) => !e.involvedObject.uid || e.involvedObject.uid === uid)
    .filter((e) => FAILURE_REASONS.has(e.reason ?? ''));
  const mountFailures = own.filter((e) => e.reason === 'FailedMount');
  if (phase === 'Pending' && mountFailures.length > 0) {
    // A kubelet timeout only says an earlier failure happened: prefer the newest failure with a cause.
    const specific = mountFailures.find(
      (e) => diagnoseMessage(e.message ?? '')?.entry.id !== 'kubelet.mount-timeout',
    );
    return { event: specific ?? mountFailures[0], pastMountFailures: [] };
  }
  const now = Date.now();
  const newest = (reason: string) => own.find((e) => e.reason === reason);
  const rotation = newest('MountRotationFailed');
  const rotationDone = events.find((e) => e.reason === 'MountRotationComplete');
  if (
    rotation &&
    now - eventTime(rotation) < RECENT_MS &&
    (!rotationDone || eventTime(rotationDone) < eventTime(rotation))
  )
    return { event: rotation, pastMountFailures: mountFailures };
  const sync = newest('FailedToCreateSecret');
  if (sync && now - eventTime(sync) < RECENT_MS) return { event: sync, pastMountFailures: mountFailures };
  return { pastMountFailures: mountFailures };
}

export async function checkPod(
  facts: ClusterFacts,
  subject: Subject,
  context: DiagnosisContext,
  findings: Findings,
): Promise<MountedVolume[]> {
  const link = 'pod' as const;
  const pod = subject.pod;
  const ns = subject.namespace;
  for (const volume of subject.volumes) {
    if (!volume.readOnly) {
      findings.add({
        link,
        check: 'pod.volume.read-only',
        status: 'problem',
        summary: `volume ${volume.name} of ${subject.label} is not read-only`,
        cause: 'the driver refuses a writable Secrets Store volume ("Readonly is not true in request")',
        fix: `set readOnly: true under volumes[${volume.name}].csi`,
        field: 'spec.volumes[].csi.readOnly',
        catalogueId: 'driver.read-only',
      });
      return [];
    }
  }
  if (!pod) return [];
  const name = pod.metadata.name ?? '';
  const evidence = `kubectl describe pod -n ${ns} ${name}; kubectl get events -n ${ns} --field-selector involvedObject.name=${name}`;
  // Not on a node yet: kubelet has not tried the mount, so there are no mount events to read and the
  // install could not be checked on its node. Not a Secrets Store problem, but not "healthy" unsaid.
  if (!subject.spec.nodeName && !pod.status?.phase?.match(/^(Succeeded|Failed)$/)) {
    findings.add({
      link,
      check: 'pod.not-scheduled',
      status: 'warning',
      summary: `${subject.label} is not scheduled on a node yet: the mount has not been tried`,
      cause:
        'the scheduler has placed it on no node (resources, node selector, taints, or the scheduler is waiting); the checks on its node wait until it is',
      fix: 'see its FailedScheduling events; run the doctor again once it has a node',
      evidence,
    });
  }

  // Containers waiting on a Secret: kubelet's own words, in the pod's status.
  const statuses =
    (pod.status as
      { initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] } | undefined) ?? {};
  for (const status of [...(statuses.initContainerStatuses ?? []), ...(statuses.containerStatuses ?? [])]) {
    const waiting = status.state?.waiting;
    if (waiting?.reason === 'CreateContainerConfigError' && waiting.message) {
      findings.add(
        failureFinding(
          'pod.container-config',
          `container ${status.name} of ${subject.label} cannot start: ${safeText(waiting.message, 300)}`,
          waiting.message,
          context,
          evidence,
        ),
      );
      return [];
    }
  }

  const events = await facts.podEvents(ns, name);
  if (!events.ok) {
    findings.add({
      link,
      check: 'pod.events',
      status: 'skipped',
      summary: `the events of ${subject.label} could not be listed`,
      cause: events.message,
    });
  } else {
    const { event, pastMountFailures } = standingFailure(subject, events.value);
    if (event) {
      const what =
        event.reason === 'FailedMount'
          ? 'the mount fails'
          : event.reason === 'MountRotationFailed'
            ? 'rotation fails (the previous content is kept)'
            : 'the synced Secret cannot be written';
      findings.add(
        failureFinding(
          `pod.${event.reason === 'FailedMount' ? 'failed-mount' : event.reason === 'MountRotationFailed' ? 'rotation-failed' : 'sync-failed'}`,
          `${subject.label}: ${what}: ${event.reason}${occurrences(event)} from ${event.source?.component ?? event.reportingComponent ?? 'unknown'}${event.source?.host ? ` on ${event.source.host}` : ''}`,
          event.message ?? '',
          context,
          evidence,
        ),
      );
      return [];
    }
    if (pastMountFailures.length > 0) {
      const last = pastMountFailures[0];
      findings.add({
        link,
        check: 'pod.past-failures',
        status: 'info',
        summary: `${subject.label} mounted after earlier failures; the last was: ${safeMessage(last.message ?? '', 300)}`,
        catalogueId: diagnoseMessage(last.message ?? '')?.entry.id,
      });
    }
  }

  const mounted: MountedVolume[] = [];
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  for (const volume of subject.volumes) {
    const statusName = `${name}-${ns}-${volume.secretProviderClass}`;
    const read = await facts.podStatus(ns, statusName);
    if (read.ok) {
      const objects = (read.value.status?.objects ?? []).map((o) => ({ id: o.id, version: o.version }));
      mounted.push({ pod: name, secretProviderClass: volume.secretProviderClass, objects });
      findings.add({
        link,
        check: 'pod.mounted',
        status: 'ok',
        summary: `volume ${volume.name} mounted: ${objects.map((o) => `${o.id}@${o.version.slice(0, 12) || '(latest)'}`).join(', ') || 'no objects'} (SecretProviderClassPodStatus ${statusName})`,
      });
    } else if (read.reason === 'not-found') {
      findings.add({
        link,
        check: 'pod.not-mounted',
        status: phase === 'Running' ? 'warning' : 'info',
        summary:
          phase === 'Running'
            ? `${subject.label} runs but has no SecretProviderClassPodStatus ${statusName}: the driver did not record the mount (rotation and Secret sync need it)`
            : `volume ${volume.name} is not mounted yet (no SecretProviderClassPodStatus ${statusName}) and no mount failure is recorded`,
        evidence,
      });
    } else {
      findings.add({
        link,
        check: 'pod.mounted',
        status: 'skipped',
        summary: `SecretProviderClassPodStatus ${statusName} could not be read`,
        cause: read.message,
      });
    }
  }
  return mounted;
}
