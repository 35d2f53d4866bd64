// The install link: the CSIDriver object with what this mode needs, the driver and provider DaemonSets
// with a ready pod on the pod's node (any install: ours, upstream's, the AKS add-on), and both using the
// same host directory for the provider socket.
import { IDENTITY_BINDING_TOKEN_AUDIENCE, WORKLOAD_IDENTITY_TOKEN_AUDIENCE } from '../../lib/core';
import type { Pod } from '../driver/cluster/kube/kube-types';
import type { ClusterFacts } from './cluster-facts';
import {
  DaemonSet,
  DriverShape,
  driverShape,
  INSTALL_KIND_TITLES,
  InstallKind,
  installKindOf,
  ProviderShape,
  providerShape,
  selectorText,
  whyNotOnNode,
} from './daemonsets';
import type { Finding, Findings } from './findings';

/** What the pods being examined need from the install. */
export interface InstallNeeds {
  readonly driverName: string;
  /** The pod's node; undefined for an unscheduled pod or a pod template. */
  readonly node?: string;
  /** `spec.provider` of the SecretProviderClasses mounted (e.g. `azure`). */
  readonly providers: readonly string[];
  readonly workloadIdentity: boolean;
  readonly identityBinding: boolean;
}

export interface FoundComponent<S> {
  readonly ds: DaemonSet;
  readonly shape: S;
  /** Its ready pod on the node, when there is one. */
  readonly pod?: Pod;
}

/** What the install check saw (the later links and the metrics check use it). */
export interface InstallSeen {
  readonly kind?: InstallKind;
  readonly driver?: FoundComponent<DriverShape>;
  readonly provider?: FoundComponent<ProviderShape>;
  /**
   * Problems that do not stop a mount (rotation that never happens): reported after the pod link, so a
   * failing mount is diagnosed first.
   */
  readonly deferred?: readonly Finding[];
}

type Presence =
  | { state: 'ready'; pod: Pod }
  | { state: 'not-ready'; pod: Pod; why: string }
  | { state: 'excluded'; why: string }
  | { state: 'absent'; why: string }
  | { state: 'unknown'; why: string };

const PRESENCE_RANK: Record<Presence['state'], number> = {
  ready: 0,
  'not-ready': 1,
  unknown: 2,
  absent: 3,
  excluded: 4,
};

function ref(ds: DaemonSet): string {
  return `${ds.metadata.namespace}/${ds.metadata.name}`;
}

function podNotReadyWhy(pod: Pod): string {
  const status = (pod.status ?? {}) as {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      ready?: boolean;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string } };
    }>;
  };
  const waiting = (status.containerStatuses ?? []).filter((c) => !c.ready);
  const parts = waiting.map((c) => {
    const reason = c.state?.waiting?.reason;
    return `${c.name}${reason ? ` ${reason}` : ' not ready'}${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`;
  });
  return `pod ${pod.metadata.name} is ${status.phase ?? 'not running'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function isReady(pod: Pod): boolean {
  const status = (pod.status ?? {}) as {
    phase?: string;
    conditions?: Array<{ type: string; status: string }>;
  };
  return (
    status.phase === 'Running' &&
    (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

async function presence(facts: ClusterFacts, ds: DaemonSet, node: string | undefined): Promise<Presence> {
  const status = ds.status ?? {};
  if (node === undefined) {
    if (status.observedGeneration === undefined)
      return { state: 'unknown', why: `no DaemonSet controller has reported on ${ref(ds)} yet` };
    const desired = status.desiredNumberScheduled ?? 0;
    const ready = status.numberReady ?? 0;
    if (desired === 0) return { state: 'absent', why: `${ref(ds)} runs on no node (desired 0)` };
    if (ready < desired) return { state: 'unknown', why: `${ref(ds)} has ${ready} of ${desired} pods ready` };
    return {
      state: 'unknown',
      why: `${ref(ds)} has all ${desired} pods ready; the pod is not on a node yet`,
    };
  }
  const nodeRead = await facts.node(node);
  if (!nodeRead.ok) {
    return {
      state: 'unknown',
      why:
        nodeRead.reason === 'not-found'
          ? `node ${node} does not exist (any more), so what runs there cannot be checked`
          : `node ${node} could not be read (${nodeRead.reason})`,
    };
  }
  const pods = await facts.daemonSetPods(ds, node);
  if (!pods.ok)
    return { state: 'unknown', why: `the pods of ${ref(ds)} could not be listed (${pods.reason})` };
  const ready = pods.value.find(isReady);
  if (ready) return { state: 'ready', pod: ready };
  if (pods.value.length > 0)
    return { state: 'not-ready', pod: pods.value[0], why: podNotReadyWhy(pods.value[0]) };
  const excluded = whyNotOnNode(ds, nodeRead.value);
  if (excluded) return { state: 'excluded', why: excluded };
  if (status.observedGeneration === undefined)
    return { state: 'unknown', why: `no DaemonSet controller has reported on ${ref(ds)} yet` };
  return {
    state: 'absent',
    why: `${ref(ds)} should run a pod on node ${node} but has none (${status.numberReady ?? 0} of ${status.desiredNumberScheduled ?? 0} ready overall)`,
  };
}

/**
 * The candidate that serves the node: one with a ready pod there wins; otherwise one of the same install
 * (namespace) as `partner` when there is one, as the report then names the DaemonSet the user deployed.
 */
async function best<S>(
  facts: ClusterFacts,
  candidates: ReadonlyArray<{ ds: DaemonSet; shape: S }>,
  node: string | undefined,
  partner?: DaemonSet,
): Promise<{ ds: DaemonSet; shape: S; presence: Presence } | undefined> {
  const rated: Array<{ ds: DaemonSet; shape: S; presence: Presence }> = [];
  for (const candidate of candidates)
    rated.push({ ...candidate, presence: await presence(facts, candidate.ds, node) });
  const ready = rated.find((r) => r.presence.state === 'ready');
  if (ready) return ready;
  const sameInstall = rated.filter((r) => partner && r.ds.metadata.namespace === partner.metadata.namespace);
  const pool = sameInstall.length > 0 ? sameInstall : rated;
  return [...pool].sort((a, b) => PRESENCE_RANK[a.presence.state] - PRESENCE_RANK[b.presence.state])[0];
}

function installFix(kind: InstallKind | undefined): string {
  switch (kind) {
    case 'aks-addon':
      return 'the AKS add-on manages it: `az aks addon disable` and `az aks addon enable --addon azure-keyvault-secrets-provider` re-create it';
    case 'self-hosted':
      return "re-apply this package's SelfHostedInstall (cdk8s synth / pulumi up)";
    case 'upstream-chart':
      return 'helm upgrade the secrets-store-csi-driver and csi-secrets-store-provider-azure releases';
    default:
      return "install the driver and the Azure provider: this package's SelfHostedInstall, the upstream Helm charts, or `az aks enable-addons --addons azure-keyvault-secrets-provider`";
  }
}

function evidenceFor(ds: DaemonSet, node: string | undefined): string {
  return `kubectl get pods -n ${ds.metadata.namespace} -l '${selectorText(ds)}' -o wide${node ? ` --field-selector spec.nodeName=${node}` : ''}`;
}

function presenceFinding(
  findings: Findings,
  check: string,
  what: string,
  chosen: { ds: DaemonSet; presence: Presence },
  node: string | undefined,
  kind: InstallKind | undefined,
): Pod | undefined {
  const { ds, presence: p } = chosen;
  const evidence = evidenceFor(ds, node);
  switch (p.state) {
    case 'ready':
      findings.add({
        link: 'install',
        check,
        status: 'ok',
        summary: `${what} ${ref(ds)}: pod ${p.pod.metadata.name} ready${node ? ` on ${node}` : ''}`,
      });
      return p.pod;
    case 'not-ready':
      findings.add({
        link: 'install',
        check,
        status: 'problem',
        summary: `${what} ${ref(ds)} is not ready on node ${node}`,
        cause: p.why,
        fix: `find out why from the pod's events and logs: \`kubectl describe pod -n ${ds.metadata.namespace} ${p.pod.metadata.name}\`, \`kubectl logs -n ${ds.metadata.namespace} ${p.pod.metadata.name} --all-containers\``,
        evidence,
      });
      return undefined;
    case 'excluded':
      findings.add({
        link: 'install',
        check,
        status: 'problem',
        summary: `${what} ${ref(ds)} does not run on node ${node}`,
        cause: p.why,
        fix: `let it run on every node that runs pods with Secrets Store volumes: change the DaemonSet's nodeSelector, affinity or tolerations (${kind === 'self-hosted' ? 'SelfHostedInstall nodeSelector / tolerations' : kind === 'aks-addon' ? 'for the add-on: schedule the pod on a Linux node pool the add-on covers' : 'the chart values nodeSelector / tolerations'}), or keep the pod off that node`,
        evidence: `kubectl get node ${node} --show-labels; kubectl get ds -n ${ds.metadata.namespace} ${ds.metadata.name} -o yaml`,
      });
      return undefined;
    case 'absent':
      findings.add({
        link: 'install',
        check,
        status: 'problem',
        summary: `${what} ${ref(ds)} has no pod on node ${node ?? '(any)'}`,
        cause: p.why,
        fix: `see why the DaemonSet controller places none: \`kubectl describe ds -n ${ds.metadata.namespace} ${ds.metadata.name}\` (events, node pressure); ${installFix(kind)}`,
        evidence,
      });
      return undefined;
    case 'unknown':
      findings.add({
        link: 'install',
        check,
        status: 'warning',
        summary: `${what} ${ref(ds)}: presence on the node not checked`,
        cause: p.why,
        evidence,
      });
      return undefined;
  }
}

export async function checkInstall(
  facts: ClusterFacts,
  needs: InstallNeeds,
  findings: Findings,
): Promise<InstallSeen> {
  const scope = await facts.daemonSets();
  const daemonSets = scope.ok ? scope.value.daemonSets : [];
  const drivers = daemonSets.flatMap((ds) => {
    const shape = driverShape(ds);
    return shape && shape.driverName === needs.driverName ? [{ ds, shape }] : [];
  });
  const otherDrivers = daemonSets.flatMap((ds) => {
    const shape = driverShape(ds);
    return shape && shape.driverName !== needs.driverName ? [`${ref(ds)} (${shape.driverName})`] : [];
  });
  const chosenDriver = await best(facts, drivers, needs.node);
  const kind = chosenDriver ? installKindOf(chosenDriver.ds) : undefined;

  const deferred: Finding[] = [];
  // 1. The CSIDriver object kubelet reads before it calls the driver.
  const csiDriver = await facts.csiDriver(needs.driverName);
  const csiEvidence = `kubectl get csidriver ${needs.driverName} -o yaml`;
  if (!csiDriver.ok && csiDriver.reason !== 'not-found') {
    findings.add({
      link: 'install',
      check: 'install.csidriver',
      status: 'skipped',
      summary: `CSIDriver ${needs.driverName} could not be read`,
      cause: csiDriver.message,
    });
  } else if (!csiDriver.ok) {
    findings.add({
      link: 'install',
      check: 'install.csidriver.missing',
      status: 'problem',
      summary: `there is no CSIDriver ${needs.driverName}`,
      cause: `kubelet refuses inline Secrets Store volumes without it ("volume mode "Ephemeral" not supported by driver ${needs.driverName} (no CSIDriver object)")`,
      fix: installFix(kind),
      evidence: 'kubectl get csidriver',
      catalogueId: 'kubelet.no-csidriver',
    });
  } else {
    const spec = csiDriver.value.spec ?? {};
    const audiences = (spec.tokenRequests ?? []).map((t) => t.audience);
    const problems: Array<{ check: string; summary: string; cause: string; fix: string; field: string }> = [];
    if (spec.podInfoOnMount !== true)
      problems.push({
        check: 'install.csidriver.pod-info',
        field: 'spec.podInfoOnMount',
        summary: `CSIDriver ${needs.driverName} has no podInfoOnMount: true`,
        cause:
          'kubelet then sends no pod name and namespace, and the Azure provider fails every mount with "pod name is not provided"',
        fix: `\`kubectl patch csidriver ${needs.driverName} --type merge -p '{"spec":{"podInfoOnMount":true}}'\`, or ${installFix(kind)}`,
      });
    if (!(spec.volumeLifecycleModes ?? ['Persistent']).includes('Ephemeral'))
      problems.push({
        check: 'install.csidriver.ephemeral',
        field: 'spec.volumeLifecycleModes',
        summary: `CSIDriver ${needs.driverName} does not list volumeLifecycleModes Ephemeral`,
        cause: 'kubelet refuses inline (csi:) volumes of a driver that does not declare Ephemeral',
        fix: `volumeLifecycleModes cannot be changed: delete the CSIDriver and re-create it with [Ephemeral] (${installFix(kind)})`,
      });
    const driver = chosenDriver?.shape;
    const republishNeeded =
      driver !== undefined &&
      driver.rotation &&
      (driver.ours || !driver.version || driver.version.major > 1 || driver.version.minor >= 6);
    if (republishNeeded && spec.requiresRepublish !== true)
      deferred.push({
        link: 'install',
        status: 'problem',
        evidence: csiEvidence,
        check: 'install.csidriver.requires-republish',
        field: 'spec.requiresRepublish',
        summary: `rotation is on (--enable-secret-rotation=true on ${ref(chosenDriver!.ds)}) but CSIDriver ${needs.driverName} has no requiresRepublish: true`,
        cause:
          'since driver v1.6 rotation happens when kubelet republishes a volume, and kubelet only does that for a CSIDriver with requiresRepublish: true; mounted secrets and synced Secrets never change',
        fix: `\`kubectl patch csidriver ${needs.driverName} --type merge -p '{"spec":{"requiresRepublish":true}}'\`; ${kind === 'self-hosted' ? 'SelfHostedInstall renders it with enableSecretRotation: true' : kind === 'upstream-chart' ? 'the chart sets it with --set enableSecretRotation=true' : installFix(kind)}`,
      });
    if (needs.workloadIdentity && !audiences.includes(WORKLOAD_IDENTITY_TOKEN_AUDIENCE))
      problems.push({
        check: 'install.csidriver.token-requests',
        field: 'spec.tokenRequests',
        summary: `the SecretProviderClass uses workload identity, but CSIDriver ${needs.driverName} requests no token for ${WORKLOAD_IDENTITY_TOKEN_AUDIENCE}`,
        cause: `kubelet passes the driver only the service-account tokens the CSIDriver's tokenRequests name; without ${WORKLOAD_IDENTITY_TOKEN_AUDIENCE} the provider fails with "service account tokens not found"`,
        fix: `add tokenRequests: [{audience: ${WORKLOAD_IDENTITY_TOKEN_AUDIENCE}}] (\`kubectl patch csidriver ${needs.driverName} --type merge -p '{"spec":{"tokenRequests":[{"audience":"${WORKLOAD_IDENTITY_TOKEN_AUDIENCE}"}]}}'\`; SelfHostedInstall workloadIdentity: true; chart --set tokenRequests[0].audience=${WORKLOAD_IDENTITY_TOKEN_AUDIENCE})`,
      });
    if (needs.identityBinding && !audiences.includes(IDENTITY_BINDING_TOKEN_AUDIENCE))
      problems.push({
        check: 'install.csidriver.token-requests',
        field: 'spec.tokenRequests',
        summary: `the SecretProviderClass uses identity binding, but CSIDriver ${needs.driverName} requests no token for ${IDENTITY_BINDING_TOKEN_AUDIENCE}`,
        cause:
          'the provider exchanges that token through the AKS token proxy; kubelet only passes audiences the CSIDriver names',
        fix: `add tokenRequests audience ${IDENTITY_BINDING_TOKEN_AUDIENCE} to the CSIDriver (SelfHostedInstall identityBinding: true)`,
      });
    for (const p of problems)
      findings.add({ link: 'install', status: 'problem', evidence: csiEvidence, ...p });
    if (problems.length === 0) {
      const has = [
        'podInfoOnMount',
        'Ephemeral',
        ...(spec.requiresRepublish ? ['requiresRepublish'] : []),
        ...(audiences.length ? [`tokens for ${audiences.join(', ')}`] : []),
      ];
      findings.add({
        link: 'install',
        check: 'install.csidriver',
        status: 'ok',
        summary: `CSIDriver ${needs.driverName}: ${has.join(', ')}`,
      });
    }
  }
  if (findings.stopped) return { kind };

  // 2. The driver on the node.
  if (!scope.ok) {
    findings.add({
      link: 'install',
      check: 'install.daemonsets',
      status: 'skipped',
      summary: 'the driver and provider DaemonSets could not be listed',
      cause: scope.message,
      fix: 'give the doctor list on daemonsets, or name their namespace with --install-namespace',
    });
    return { kind };
  }
  if (scope.value.note)
    findings.add({ link: 'install', check: 'install.daemonsets', status: 'info', summary: scope.value.note });
  if (!chosenDriver) {
    findings.add({
      link: 'install',
      check: 'install.driver.missing',
      status: 'problem',
      summary: `no driver DaemonSet for ${needs.driverName} in ${scope.value.where}`,
      cause: `nothing serves the CSI driver ${needs.driverName}, so kubelet reports "driver name ${needs.driverName} not found in the list of registered CSI drivers"${otherDrivers.length ? `; drivers found: ${otherDrivers.join(', ')}` : ''}`,
      fix: installFix(undefined),
      evidence: 'kubectl get ds -A -o wide | grep -i secrets-store',
      catalogueId: 'kubelet.driver-not-registered',
    });
    return { kind };
  }
  const driverPod = presenceFinding(findings, 'install.driver', 'driver', chosenDriver, needs.node, kind);
  const driver: FoundComponent<DriverShape> = {
    ds: chosenDriver.ds,
    shape: chosenDriver.shape,
    pod: driverPod,
  };
  if (findings.stopped) return { kind, driver, deferred };

  // 3. The provider on the node, with its socket where the driver looks.
  let provider: FoundComponent<ProviderShape> | undefined;
  for (const providerName of needs.providers) {
    const socket = `${providerName}.sock`;
    const all = daemonSets.flatMap((ds) => {
      const shape = providerShape(ds);
      return shape ? [{ ds, shape }] : [];
    });
    const serving = all.filter((p) => p.shape.socketName === socket);
    if (serving.length === 0) {
      // `Azure`, ` azure`: a provider that runs under the name written with another case or spaces.
      const near = all
        .map((p) => p.shape.socketName.replace(/\.sock$/, ''))
        .find((name) => name.toLowerCase() === providerName.trim().toLowerCase());
      findings.add({
        link: 'install',
        check: 'install.provider.missing',
        status: 'problem',
        summary: `no provider DaemonSet serving ${socket} (spec.provider: ${providerName}) in ${scope.value.where}`,
        cause: `the driver looks for ${socket} in its provider directories and fails with "provider not found: provider "${providerName}""${all.length ? `; providers found: ${all.map((p) => `${ref(p.ds)} (${p.shape.socketName})`).join(', ')}` : ''}`,
        fix: near
          ? `spec.provider is case-sensitive and names the socket: write \`provider: ${near}\` in SecretProviderClass spec (a provider serving ${near}.sock runs)`
          : `${providerName === 'azure' ? "install the Azure Key Vault provider (this package's SelfHostedInstall, the csi-secrets-store-provider-azure chart, or the AKS add-on)" : `install the ${providerName} provider`}; spec.provider must be its socket name without .sock`,
        evidence: 'kubectl get ds -A | grep -i provider',
        catalogueId: 'driver.provider-not-found',
      });
      return { kind, driver, deferred };
    }
    const shares = (p: { shape: ProviderShape }) =>
      p.shape.hostSocketDir !== undefined && driver.shape.hostProviderDirs.includes(p.shape.hostSocketDir);
    // The provider of the driver's own install is the one to judge, unless another one serves the node.
    const sameInstall = serving.filter((p) => p.ds.metadata.namespace === driver.ds.metadata.namespace);
    const readyElsewhere =
      (await best(facts, serving.filter(shares), needs.node))?.presence.state === 'ready';
    const judged = readyElsewhere || sameInstall.length === 0 ? serving : sameInstall;
    const sharing = judged.filter(shares);
    if (sharing.length === 0) {
      const p = judged[0];
      findings.add({
        link: 'install',
        check: 'install.provider.socket-dir',
        status: 'problem',
        summary: `provider ${ref(p.ds)} puts ${socket} where the driver does not look`,
        cause: `the provider writes ${p.shape.socketDir}/${socket}, which is ${p.shape.hostSocketDir ? `host directory ${p.shape.hostSocketDir}` : 'not on a hostPath volume'}; driver ${ref(driver.ds)} searches the host directories ${driver.shape.hostProviderDirs.join(', ') || '(none: its provider directories are not hostPath volumes)'}`,
        fix: `mount the same host directory in both DaemonSets (the default is /var/run/secrets-store-csi-providers; the driver's --provider-volume and --additional-provider-volume-paths name the directories it searches)`,
        evidence: `kubectl get ds -n ${p.ds.metadata.namespace} ${p.ds.metadata.name} -o jsonpath='{.spec.template.spec.volumes}'; kubectl get ds -n ${driver.ds.metadata.namespace} ${driver.ds.metadata.name} -o jsonpath='{.spec.template.spec.volumes}'`,
        catalogueId: 'driver.provider-not-found',
      });
      return { kind, driver, deferred };
    }
    const chosenProvider = await best(facts, sharing, needs.node, driver.ds);
    const providerPod = presenceFinding(
      findings,
      'install.provider',
      `provider (${socket})`,
      chosenProvider!,
      needs.node,
      kind,
    );
    provider = { ds: chosenProvider!.ds, shape: chosenProvider!.shape, pod: providerPod };
    if (findings.stopped) return { kind, driver, provider, deferred };
  }
  if (kind)
    findings.add({
      link: 'install',
      check: 'install.kind',
      status: 'info',
      summary: `install: ${INSTALL_KIND_TITLES[kind]} (${ref(driver.ds)})`,
    });
  return { kind, driver, provider, deferred };
}
