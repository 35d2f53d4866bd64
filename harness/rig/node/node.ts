// A real node for the rig: Debian's containerd 1.6 + runc and the pinned kubelet, registered to a rig
// apiserver as `system:node:<name>`, plus kube-scheduler (DaemonSet pods are placed by the scheduler). Every
// path it uses is under one temp dir (containerd root/state/socket, kubelet root, CNI state, provider
// sockets, network-namespace pins), its containers live under one cgroup, and stopNode (or, after a killed
// run, reapNodeLeftovers) removes every process, mount, cgroup and link it made.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { TestCa } from '../../fakes/test-ca';
import { createSignedCertificate } from '../certs';
import { controlPlaneFlags } from '../cluster';
import { KubeApi } from '../kube-api';
import { freePort, isAlive, RigProcess, rigRunDir, spawnLogged, stopProcess, waitUntil } from '../processes';
import { nodeBinary, RigEndpoints } from '../rig-env';
import { nodeImages } from './node-images';
import {
  addServiceLink,
  CNI_BIN_DIR,
  randomPodSubnet,
  removeServiceLink,
  startClusterDns,
  startServiceForwarder,
  writeCniConfig,
} from './node-network';
import { importImages, writeOciLayout } from './oci-image';

const CONTAINERD = '/usr/bin/containerd';
const CTR = '/usr/bin/ctr';
const RUNC = '/usr/sbin/runc';

export interface StartNodeProps {
  /** The cluster the kubelet registers with (its CA key signs the kubelet's client certificate). */
  readonly cluster: RigEndpoints;
  /** Receives each child as soon as it is spawned (for signal handlers). */
  readonly processes: RigProcess[];
  /** @default 180000 */
  readonly readyTimeoutMs?: number;
}

/** What tests need to know about the running node. */
export interface NodeEndpoints {
  readonly nodeName: string;
  /** The node's temp dir (logs: `<dir>/logs/<name>.log`). */
  readonly dir: string;
  /** `--root-dir` of the kubelet: the install's `kubeletRootDir`. */
  readonly kubeletRootDir: string;
  /** Where provider sockets go: the install's `providersDir`. */
  readonly providersDir: string;
  /** containerd's socket, for `ctr --address`. */
  readonly containerdAddress: string;
  /** The test CA the node's images trust (TestCa.load). */
  readonly caDir: string;
  /** Hosts files here are answered by the cluster DNS (the hostNetwork provider resolves through it). */
  readonly dnsHostsDir: string;
  readonly podSubnet: string;
}

export interface RunningNode {
  readonly endpoints: NodeEndpoints;
  readonly processes: readonly RigProcess[];
  /** What the teardown removes (also recorded for reapNodeLeftovers). */
  readonly leftovers: NodeLeftovers;
}

/** Everything a node makes that outlives its processes. */
export interface NodeLeftovers {
  readonly ownerPid: number;
  readonly dir: string;
  readonly serviceLink: string;
  readonly containerdAddress: string;
}

function write(file: string, content: string, mode = 0o600): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
  return file;
}

/** Records of running nodes: a dir of their own (reapLeftovers reads rig-run/*.json as process records). */
function nodeRunDir(): string {
  return path.join(rigRunDir(), 'nodes');
}

function leftoversFile(ownerPid: number): string {
  return path.join(nodeRunDir(), `${ownerPid}.json`);
}

function containerdConfig(dir: string, socket: string, sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[${cri}]
  sandbox_image = "${sandboxImage}"
  # root here lacks CAP_SYS_RESOURCE: never lower a container's oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # Network-namespace pins under this node's state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        BinaryName = "${RUNC}"
        SystemdCgroup = false
  [${cri}.cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${dir}/cni/net.d"
`;
}

function kubeletConfig(props: {
  dir: string;
  socket: string;
  clusterDns: string;
  caFile: string;
  port: number;
  healthzPort: number;
}): string {
  return toYaml({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port: props.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: props.healthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: props.caFile },
    },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${props.socket}`,
    // What fits this machine (cgroup v1, hybrid; root without CAP_SYS_RESOURCE): cgroupfs, no QoS tree,
    // nothing reserved. containerd then puts each container in /k8s.io/<container id>.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    // Container logs under the node's dir (the kubelet still links them from /var/log/containers).
    podLogsDir: path.join(props.dir, 'pod-logs'),
    failSwapOn: false,
    makeIPTablesUtilChains: false,
    protectKernelDefaults: false,
    evictionHard: {
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    // The images were imported, they cannot be pulled again: never garbage-collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    clusterDomain: 'cluster.local',
    clusterDNS: [props.clusterDns],
    resolvConf: write(path.join(props.dir, 'kubelet', 'resolv.conf'), '', 0o644),
    // Pods are re-synced (and requiresRepublish volumes republished) every 10 s instead of every minute, so
    // rotation shows within a test's patience.
    syncFrequency: '10s',
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    maxPods: 110,
    shutdownGracePeriod: '0s',
  });
}

/** Starts containerd, imports the images, starts kube-scheduler and the kubelet; resolves when the Node is Ready. */
export async function startNode(props: StartNodeProps): Promise<RunningNode> {
  const readyTimeoutMs = props.readyTimeoutMs ?? 180_000;
  const id = randomBytes(3).toString('hex');
  const nodeName = `rig-node-${id}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-rig-node-'));
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir);
  const socket = path.join(dir, 'containerd', 'containerd.sock');
  const leftovers: NodeLeftovers = {
    ownerPid: process.pid,
    dir,
    serviceLink: `aksrig${id}`,
    containerdAddress: socket,
  };
  fs.mkdirSync(nodeRunDir(), { recursive: true });
  fs.writeFileSync(leftoversFile(process.pid), JSON.stringify(leftovers));
  const processes = props.processes;
  const api = KubeApi.forEndpoints(props.cluster);
  const started: RigProcess[] = [];
  const track = (proc: RigProcess) => {
    started.push(proc);
    return proc;
  };
  try {
    // Network: the kubernetes Service address, the cluster DNS, the pods' CNI network.
    const service = (await api.get('/api/v1/namespaces/default/services/kubernetes')) as {
      spec: { clusterIP: string };
    };
    addServiceLink(leftovers.serviceLink, service.spec.clusterIP);
    track(
      startServiceForwarder({
        serviceIp: service.spec.clusterIP,
        apiserverUrl: props.cluster.apiserverUrl,
        logDir,
        processes,
      }),
    );
    const dns = await startClusterDns({ dir, logDir, processes, readyTimeoutMs });
    track(dns.process);
    const podSubnet = randomPodSubnet();
    writeCniConfig(path.join(dir, 'cni', 'net.d'), path.join(dir, 'cni', 'ipam'), podSubnet);

    // containerd, then the images (the sandbox image first of all).
    const images = nodeImages({
      workDir: path.join(dir, 'images'),
      caCertPem: rigCa(dir).caCertPem,
    });
    const configFile = write(
      path.join(dir, 'containerd', 'config.toml'),
      containerdConfig(dir, socket, images[0].name),
    );
    const containerd = track(
      spawnLogged({ name: 'containerd', binary: CONTAINERD, args: ['--config', configFile], logDir }),
    );
    processes.push(containerd);
    await waitUntil(
      async () => {
        execFileSync(CTR, ['--address', socket, 'version'], { stdio: 'ignore', timeout: 10_000 });
        return true;
      },
      { what: 'containerd', timeoutMs: readyTimeoutMs, process: containerd },
    );
    importImages(writeOciLayout(images, path.join(dir, 'images', 'layout')), { ctr: CTR, address: socket });

    // kube-scheduler (admin credentials: it is a control-plane component of the rig).
    const scheduler = track(
      spawnLogged({
        name: 'kube-scheduler',
        binary: nodeBinary('kubeScheduler'),
        logDir,
        args: [...(await controlPlaneFlags(props.cluster.kubeconfig)), '--leader-elect=false'],
      }),
    );
    processes.push(scheduler);

    // The kubelet, as system:node:<name> (Node authorizer, NodeRestriction).
    const kubeletDir = path.join(dir, 'kubelet');
    const cert = createSignedCertificate(
      {
        certPem: fs.readFileSync(props.cluster.caFile, 'utf8'),
        keyPem: fs.readFileSync(props.cluster.caKeyFile, 'utf8'),
      },
      { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], usage: 'client' },
    );
    const kubeconfig = write(
      path.join(dir, 'kubelet-pki', 'kubelet.kubeconfig'),
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'rig',
            cluster: { server: props.cluster.apiserverUrl, 'certificate-authority': props.cluster.caFile },
          },
        ],
        users: [
          {
            name: nodeName,
            user: {
              'client-certificate': write(path.join(dir, 'kubelet-pki', 'client.crt'), cert.certPem),
              'client-key': write(path.join(dir, 'kubelet-pki', 'client.key'), cert.keyPem),
            },
          },
        ],
        contexts: [{ name: 'rig', context: { cluster: 'rig', user: nodeName } }],
        'current-context': 'rig',
      }),
    );
    const config = write(
      path.join(dir, 'kubelet-pki', 'config.yaml'),
      kubeletConfig({
        dir,
        socket,
        clusterDns: dns.address,
        caFile: props.cluster.caFile,
        port: await freePort(),
        healthzPort: await freePort(),
      }),
    );
    const kubelet = track(
      spawnLogged({
        name: 'kubelet',
        binary: nodeBinary('kubelet'),
        logDir,
        args: [
          `--config=${config}`,
          `--kubeconfig=${kubeconfig}`,
          `--root-dir=${kubeletDir}`,
          `--cert-dir=${path.join(dir, 'kubelet-pki')}`,
          `--hostname-override=${nodeName}`,
          '--node-ip=127.0.0.1',
          '--v=2',
        ],
      }),
    );
    processes.push(kubelet);
    await waitUntil(
      async () => {
        const node = await api.find<{ status?: { conditions?: { type: string; status: string }[] } }>(
          `/api/v1/nodes/${nodeName}`,
        );
        return !!node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      { what: `Node ${nodeName} Ready`, timeoutMs: readyTimeoutMs, process: kubelet },
    );
    return {
      endpoints: {
        nodeName,
        dir,
        kubeletRootDir: kubeletDir,
        providersDir: path.join(dir, 'providers'),
        containerdAddress: socket,
        caDir: path.join(dir, 'rig-ca'),
        dnsHostsDir: dns.hostsDir,
        podSubnet,
      },
      processes: started,
      leftovers,
    };
  } catch (error) {
    await stopNode({ processes: started, leftovers });
    throw error;
  } finally {
    api.close();
  }
}

/** The node's test CA (created once per node; its key stays in the node dir for the tests' fakes). */
function rigCa(dir: string): TestCa {
  fs.mkdirSync(path.join(dir, 'rig-ca'), { recursive: true });
  const ca = TestCa.create({ dir: path.join(dir, 'rig-ca'), commonName: 'aks-secrets-store rig node CA' });
  ca.saveKey();
  return ca;
}

/** The processes whose command line names our containerd socket (its shims). */
function shimsOf(containerdAddress: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0].endsWith('containerd-shim-runc-v2') && argv.includes(containerdAddress))
        pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Ids of the containers (pods' sandboxes included) our containerd has tasks for, from its state dir. */
function taskIds(dir: string): string[] {
  const tasks = path.join(dir, 'containerd', 'state', 'io.containerd.runtime.v2.task', 'k8s.io');
  return fs.existsSync(tasks) ? fs.readdirSync(tasks) : [];
}

/** The cgroup hierarchies (cgroup v1 controllers, `unified`), as paths. */
function cgroupHierarchies(): string[] {
  const root = '/sys/fs/cgroup';
  return fs.existsSync(root) ? fs.readdirSync(root).map((h) => path.join(root, h)) : [];
}

/** The cgroup dirs of our containers in every hierarchy (containerd's CRI: /k8s.io/<container id>). */
function containerCgroups(dir: string): string[] {
  return taskIds(dir).flatMap((id) =>
    cgroupHierarchies()
      .map((h) => path.join(h, 'k8s.io', id))
      .filter((cgroup) => fs.existsSync(cgroup)),
  );
}

function killContainerProcesses(cgroups: readonly string[]): void {
  for (const cgroup of cgroups) {
    const procs = path.join(cgroup, 'cgroup.procs');
    if (!fs.existsSync(procs)) continue;
    for (const pid of fs.readFileSync(procs, 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Removes the cgroups that are empty; returns those that are not (yet). */
function removeCgroups(cgroups: readonly string[]): string[] {
  return cgroups.filter((cgroup) => {
    try {
      if (fs.existsSync(cgroup)) fs.rmdirSync(cgroup);
      return false;
    } catch {
      return true;
    }
  });
}

/** The kubelet links every container log from /var/log/containers: the links into this node's dir go. */
function removeContainerLogLinks(dir: string): void {
  const links = '/var/log/containers';
  for (const name of fs.existsSync(links) ? fs.readdirSync(links) : []) {
    const link = path.join(links, name);
    try {
      if (fs.readlinkSync(link).startsWith(`${dir}/`)) fs.rmSync(link);
    } catch {
      // Not a link, or gone.
    }
  }
}

/** Mount points under `dir` from /proc/self/mountinfo, deepest first. */
function mountsUnder(dir: string): string[] {
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\040/g, ' '))
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function unmountAll(dir: string): void {
  // Repeat: the kubelet's rshared bind of its root dir stacks mounts; each pass removes the top ones.
  for (let pass = 0; pass < 10; pass++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) {
      try {
        execFileSync('umount', [point], { stdio: 'ignore' });
      } catch {
        try {
          execFileSync('umount', ['-l', point], { stdio: 'ignore' });
        } catch {
          // Unmounted by an earlier one (a parent's lazy unmount).
        }
      }
    }
  }
}

async function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Removes what a node made: processes (kubelet first), containers, shims, mounts, cgroups, logs, the link, the dir. */
export async function stopNode(node: {
  processes: readonly RigProcess[];
  leftovers: NodeLeftovers;
}): Promise<void> {
  const byName = (name: string) => node.processes.filter((proc) => proc.name === name);
  // The kubelet first (nothing restarts containers after this), then every container and containerd.
  for (const proc of [...byName('kubelet'), ...byName('kube-scheduler')]) await stopProcess(proc);
  const cgroups = containerCgroups(node.leftovers.dir);
  killContainerProcesses(cgroups);
  for (const proc of byName('containerd')) await stopProcess(proc);
  sweepLeftovers(node.leftovers, cgroups);
  for (const proc of [...node.processes].reverse()) await stopProcess(proc);
  await removeCgroupsWhenEmpty(cgroups);
  fs.rmSync(node.leftovers.dir, { recursive: true, force: true });
  fs.rmSync(leftoversFile(node.leftovers.ownerPid), { force: true });
}

/** SIGKILLed processes leave their cgroups a moment later: retry (bounded, 5 s). */
async function removeCgroupsWhenEmpty(cgroups: readonly string[]): Promise<void> {
  let left = removeCgroups(cgroups);
  for (let attempt = 0; attempt < 50 && left.length > 0; attempt++) {
    await sleep(100);
    killContainerProcesses(left);
    left = removeCgroups(left);
  }
  if (left.length > 0) console.warn(`node: cgroups still busy after the teardown: ${left.join(', ')}`);
  // runc made the /k8s.io parents; rmdir only removes one that no container uses any more.
  removeCgroups(cgroupHierarchies().map((h) => path.join(h, 'k8s.io')));
}

/**
 * The synchronous part of the teardown (also for a signal handler and for a killed run's leftovers): shims
 * and container processes killed, every mount under the node's dir unmounted, cgroups, log links and the
 * service link removed. Call it before the node's dir is deleted: the container ids come from it.
 */
export function sweepLeftovers(leftovers: NodeLeftovers, cgroups = containerCgroups(leftovers.dir)): void {
  for (const pid of shimsOf(leftovers.containerdAddress)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  killContainerProcesses(cgroups);
  unmountAll(leftovers.dir);
  removeCgroups(cgroups);
  removeContainerLogLinks(leftovers.dir);
  removeServiceLink(leftovers.serviceLink);
}

/**
 * Removes what the node of a killed run left (its processes are reaped by reapLeftovers: pid files). Returns
 * the dirs it cleaned.
 */
export async function reapNodeLeftovers(): Promise<string[]> {
  if (!fs.existsSync(nodeRunDir())) return [];
  const cleaned: string[] = [];
  for (const name of fs.readdirSync(nodeRunDir()).filter((n) => /^\d+\.json$/.test(n))) {
    const file = path.join(nodeRunDir(), name);
    let leftovers: NodeLeftovers;
    try {
      leftovers = JSON.parse(fs.readFileSync(file, 'utf8')) as NodeLeftovers;
    } catch {
      continue;
    }
    if (isAlive(leftovers.ownerPid)) continue;
    const cgroups = containerCgroups(leftovers.dir);
    sweepLeftovers(leftovers, cgroups);
    await removeCgroupsWhenEmpty(cgroups);
    fs.rmSync(leftovers.dir, { recursive: true, force: true });
    fs.rmSync(file, { force: true });
    cleaned.push(leftovers.dir);
  }
  return cleaned;
}
