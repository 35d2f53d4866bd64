// Starts and stops the rig's real components on loopback: etcd, kube-apiserver (generated CA, serving and
// admin client certificates, service-account keys, the token audiences the driver needs) and
// kube-controller-manager (garbage collector, service accounts, namespace, RBAC aggregation), plus
// lowkey-vault when its jar is available. Every child is in its own process group and stopped by stopRig.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from '../../lib/core/install';
import { createCertificateAuthority, createServiceAccountKeyPair, createSignedCertificate } from './certs';
import { KubeApi } from './kube-api';
import { startLowkeyVault } from './lowkey-vault';
import { freePort, killNow, RigProcess, spawnLogged, stopProcess, waitUntil } from './processes';
import { lowkeyVaultRuntime, rigBinary, RigEndpoints, rigVersions } from './rig-env';

/** The workload-identity audience (AKS, Azure provider): TokenRequests for it must succeed. */
export const AZURE_AD_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface StartRigProps {
  /** Start kube-controller-manager too. @default true */
  readonly controllerManager?: boolean;
  /** Start lowkey-vault when its jar is available. @default true */
  readonly lowkeyVault?: boolean;
  /**
   * Controllers kube-controller-manager runs besides the rig's own (e.g. `daemonset-controller` for a node).
   * @default none
   */
  readonly extraControllers?: readonly string[];
  /**
   * `--service-cluster-ip-range`; its first address (the `kubernetes` Service) is in the serving certificate.
   * @default '10.96.0.0/16'
   */
  readonly serviceClusterIpRange?: string;
  /** Bound for each component to become ready. @default 120000 (2 shared cores, cold page cache) */
  readonly readyTimeoutMs?: number;
  /** Parent of the run's temp dir. @default os.tmpdir() */
  readonly tempParent?: string;
  /**
   * Receives each child as soon as it is spawned, so a signal handler installed before startRig can kill
   * what a half-finished start left. @default a private list
   */
  readonly processes?: RigProcess[];
  /**
   * Write the apiserver's audit log here (level Metadata, one JSON event per finished request, with its
   * received and completed timestamps): benchmarks count and time what a client sent. @default no audit log
   */
  readonly auditLogPath?: string;
}

export interface RunningRig {
  readonly endpoints: RigEndpoints;
  /** Started children, in start order. */
  readonly processes: readonly RigProcess[];
  /** Versions the started binaries report, one line each. */
  readonly versions: readonly string[];
}

/** Every request at level Metadata (no bodies: Secrets stay out of the log), once, when it has finished. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
  - level: Metadata
`;

interface ClusterBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  /** Empty when the controller manager is not started. */
  readonly kubeControllerManager: string;
}

function write(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content, { mode: 0o600 });
  return file;
}

function reportedVersion(binary: string, args: string[]): string {
  try {
    return execFileSync(binary, args, { encoding: 'utf8', timeout: 30000 }).trim().split('\n')[0];
  } catch (error) {
    return `(${path.basename(binary)} ${args.join(' ')} failed: ${(error as Error).message})`;
  }
}

/**
 * Starts the components. On any failure the ones already started are stopped before the error propagates.
 */
export async function startRig(props: StartRigProps = {}): Promise<RunningRig> {
  const bin: ClusterBinaries = {
    etcd: rigBinary('etcd'),
    kubeApiserver: rigBinary('kubeApiserver'),
    kubeControllerManager: props.controllerManager === false ? '' : rigBinary('kubeControllerManager'),
  };
  const readyTimeoutMs = props.readyTimeoutMs ?? 120000;
  const stateDir = fs.mkdtempSync(path.join(props.tempParent ?? os.tmpdir(), 'aks-secrets-store-rig-'));
  const processes: RigProcess[] = props.processes ?? [];
  try {
    const etcd = await startEtcd(bin, stateDir, processes, readyTimeoutMs);
    const serviceRange = props.serviceClusterIpRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE;
    const apiserver = await startApiserver(
      bin,
      stateDir,
      etcd.url,
      serviceRange,
      processes,
      readyTimeoutMs,
      props.auditLogPath,
    );
    if (props.controllerManager ?? true) {
      const controllers = [...CONTROLLERS, ...(props.extraControllers ?? [])];
      await startControllerManager(bin, stateDir, apiserver, controllers, processes, readyTimeoutMs);
    }
    const versions = [
      `kube-apiserver: ${reportedVersion(bin.kubeApiserver, ['--version'])}`,
      `etcd: ${reportedVersion(bin.etcd, ['--version'])}`,
    ];
    let lowkey: { url?: string; caFile?: string; unavailable?: string } = {};
    if (props.lowkeyVault ?? true) {
      const runtime = lowkeyVaultRuntime();
      if ('unavailable' in runtime) {
        lowkey = { unavailable: runtime.unavailable };
        versions.push(`lowkey-vault: not started (${runtime.unavailable})`);
      } else {
        const started = await startLowkeyVault({ runtime, stateDir, readyTimeoutMs, processes });
        lowkey = { url: started.url, caFile: started.caFile };
        versions.push(
          `lowkey-vault: ${rigVersions().lowkeyVault} (${reportedVersion(runtime.java, ['-version'])})`,
        );
      }
    }
    const endpoints: RigEndpoints = {
      ...apiserver.endpoints,
      etcdUrl: etcd.url,
      lowkeyVaultUrl: lowkey.url,
      lowkeyVaultCaFile: lowkey.caFile,
      lowkeyVaultUnavailable: lowkey.unavailable,
      stateDir,
    };
    return { endpoints, processes, versions };
  } catch (error) {
    await stopProcesses(processes);
    throw error;
  }
}

/** Installs our CRDs (lib/core/install) on the rig's apiserver and waits until they are Established. */
export async function installRigCrds(endpoints: RigEndpoints): Promise<void> {
  const api = KubeApi.forEndpoints(endpoints);
  try {
    for (const crd of [secretProviderClassCrd(), secretProviderClassPodStatusCrd()]) {
      await api.apply(crd);
      await api.waitForCrdEstablished(crd.metadata.name);
    }
  } finally {
    api.close();
  }
}

/**
 * Flags of a control-plane component (controller manager, scheduler) that talks to the apiserver as its
 * admin and serves its own health endpoint on a free loopback port.
 */
export async function controlPlaneFlags(kubeconfig: string): Promise<string[]> {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
  ];
}

/** Stops every child (reverse start order), each as a process group. */
export async function stopProcesses(processes: readonly RigProcess[]): Promise<void> {
  for (const proc of [...processes].reverse()) await stopProcess(proc);
}

export async function stopRig(running: RunningRig, options: { keepStateDir?: boolean } = {}): Promise<void> {
  await stopProcesses(running.processes);
  if (!options.keepStateDir) fs.rmSync(running.endpoints.stateDir, { recursive: true, force: true });
}

/** For signal handlers: kill everything at once, synchronously. */
export function killRigNow(running: { processes: readonly RigProcess[] }): void {
  killNow(running.processes);
}

async function startEtcd(
  bin: ClusterBinaries,
  stateDir: string,
  processes: RigProcess[],
  readyTimeoutMs: number,
): Promise<{ url: string }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const proc = spawnLogged({
    name: 'etcd',
    binary: bin.etcd,
    logDir: stateDir,
    args: [
      '--name=rig',
      `--data-dir=${path.join(stateDir, 'etcd-data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=rig=${peerUrl}`,
      // A throwaway test store: fsync only costs time on a shared disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });
  processes.push(proc);
  await waitUntil(
    async () => {
      const response = await fetch(`${url}/health`);
      return response.ok && ((await response.json()) as { health?: string }).health === 'true';
    },
    { what: 'etcd /health', timeoutMs: readyTimeoutMs, process: proc },
  );
  return { url };
}

interface StartedApiserver {
  readonly endpoints: Omit<
    RigEndpoints,
    'etcdUrl' | 'stateDir' | 'lowkeyVaultUrl' | 'lowkeyVaultCaFile' | 'lowkeyVaultUnavailable'
  >;
  readonly caFile: string;
  readonly serviceAccountKeyFile: string;
}

const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';

/** The first address of an IPv4 range: the ClusterIP the apiserver gives the `kubernetes` Service. */
export function kubernetesServiceIp(range: string): string {
  const [base] = range.split('/');
  const octets = base.split('.').map(Number);
  octets[3] += 1;
  return octets.join('.');
}

async function startApiserver(
  bin: ClusterBinaries,
  stateDir: string,
  etcdUrl: string,
  serviceRange: string,
  processes: RigProcess[],
  readyTimeoutMs: number,
  auditLogPath: string | undefined,
): Promise<StartedApiserver> {
  const ca = createCertificateAuthority('aks-secrets-store-rig-ca');
  const serving = createSignedCertificate(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    // In-cluster clients (a node's pods) reach the apiserver at the kubernetes Service address.
    ipAddresses: ['127.0.0.1', kubernetesServiceIp(serviceRange)],
  });
  const admin = createSignedCertificate(ca, {
    commonName: 'rig-admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const serviceAccount = createServiceAccountKeyPair();
  const caFile = write(stateDir, 'ca.crt', ca.certPem);
  // A node signs its kubelet's client certificate with it (harness/rig/node).
  const caKeyFile = write(stateDir, 'ca.key', ca.keyPem);
  const servingCert = write(stateDir, 'apiserver.crt', serving.certPem);
  const servingKey = write(stateDir, 'apiserver.key', serving.keyPem);
  const clientCertFile = write(stateDir, 'admin.crt', admin.certPem);
  const clientKeyFile = write(stateDir, 'admin.key', admin.keyPem);
  const saKeyFile = write(stateDir, 'sa.key', serviceAccount.privateKeyPem);
  const saPubFile = write(stateDir, 'sa.pub', serviceAccount.publicKeyPem);
  const port = await freePort();
  const apiserverUrl = `https://127.0.0.1:${port}`;
  const apiAudiences = [SERVICE_ACCOUNT_ISSUER, AZURE_AD_TOKEN_EXCHANGE_AUDIENCE];

  const proc = spawnLogged({
    name: 'kube-apiserver',
    binary: bin.kubeApiserver,
    logDir: stateDir,
    args: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${path.join(stateDir, 'apiserver-certs')}`,
      `--tls-cert-file=${servingCert}`,
      `--tls-private-key-file=${servingKey}`,
      `--client-ca-file=${caFile}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${saPubFile}`,
      `--service-account-signing-key-file=${saKeyFile}`,
      `--api-audiences=${apiAudiences.join(',')}`,
      '--authorization-mode=Node,RBAC',
      // ValidatingAdmissionPolicy is GA (on by default); listed so the policy tests never depend on defaults.
      '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,NodeRestriction,ValidatingAdmissionPolicy,' +
        'MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota',
      `--service-cluster-ip-range=${serviceRange}`,
      '--allow-privileged=true',
      // No nodes and a loopback advertise address: the kubernetes Service endpoints are not reconciled.
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      ...(auditLogPath
        ? [
            `--audit-log-path=${auditLogPath}`,
            `--audit-policy-file=${write(stateDir, 'audit-policy.yaml', AUDIT_POLICY)}`,
          ]
        : []),
    ],
  });
  processes.push(proc);

  const kubeconfig = write(
    stateDir,
    'admin.kubeconfig',
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'rig', cluster: { server: apiserverUrl, 'certificate-authority': caFile } }],
      users: [
        { name: 'rig-admin', user: { 'client-certificate': clientCertFile, 'client-key': clientKeyFile } },
      ],
      contexts: [{ name: 'rig', context: { cluster: 'rig', user: 'rig-admin' } }],
      'current-context': 'rig',
    }),
  );

  const api = new KubeApi({
    apiserverUrl,
    caPem: ca.certPem,
    clientCertPem: admin.certPem,
    clientKeyPem: admin.keyPem,
    requestTimeoutMs: 10000,
  });
  try {
    await waitUntil(
      async () => (await api.request('GET', '/readyz', { allowStatus: [500, 503] })).status === 200,
      { what: 'kube-apiserver /readyz', timeoutMs: readyTimeoutMs, process: proc },
    );
  } finally {
    api.close();
  }
  return {
    endpoints: {
      kubeconfig,
      apiserverUrl,
      caFile,
      caKeyFile,
      clientCertFile,
      clientKeyFile,
      serviceAccountIssuer: SERVICE_ACCOUNT_ISSUER,
      apiAudiences,
    },
    caFile,
    serviceAccountKeyFile: saKeyFile,
  };
}

/** Controllers the tests rely on: GC (owner references), service accounts, namespaces, RBAC aggregation. */
const CONTROLLERS = [
  'garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'namespace-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

async function startControllerManager(
  bin: ClusterBinaries,
  stateDir: string,
  apiserver: StartedApiserver,
  controllers: readonly string[],
  processes: RigProcess[],
  readyTimeoutMs: number,
): Promise<void> {
  const proc = spawnLogged({
    name: 'kube-controller-manager',
    binary: bin.kubeControllerManager,
    logDir: stateDir,
    args: [
      ...(await controlPlaneFlags(apiserver.endpoints.kubeconfig)),
      `--cert-dir=${path.join(stateDir, 'controller-manager-certs')}`,
      `--service-account-private-key-file=${apiserver.serviceAccountKeyFile}`,
      `--root-ca-file=${apiserver.caFile}`,
      '--leader-elect=false',
      `--controllers=${controllers.join(',')}`,
    ],
  });
  processes.push(proc);
  // Ready when its controllers act: the service-account controller creates "default" in "default".
  const api = new KubeApi({
    apiserverUrl: apiserver.endpoints.apiserverUrl,
    caPem: fs.readFileSync(apiserver.caFile, 'utf8'),
    clientCertPem: fs.readFileSync(apiserver.endpoints.clientCertFile, 'utf8'),
    clientKeyPem: fs.readFileSync(apiserver.endpoints.clientKeyFile, 'utf8'),
    requestTimeoutMs: 10000,
  });
  try {
    await waitUntil(async () => !!(await api.find('/api/v1/namespaces/default/serviceaccounts/default')), {
      what: 'kube-controller-manager (ServiceAccount default/default created)',
      timeoutMs: readyTimeoutMs,
      process: proc,
    });
  } finally {
    api.close();
  }
}
