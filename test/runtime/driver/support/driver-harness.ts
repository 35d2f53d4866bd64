// Runs our CSI driver's gRPC services on a real unix socket, with real tmpfs mounts and a provider on a
// real provider socket, and talks to it through the real @grpc/grpc-js client, as kubelet would. The
// cluster ports are passed in: the rig tests bind them to the real kube-apiserver.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createUnixGrpcClient,
  startUnixGrpcServer,
  UnixGrpcServer,
} from '../../../../runtime/common/net/grpc-unix';
import { Logger } from '../../../../runtime/common/logging/logger';
import type {
  PodEventRecorder,
  PodSource,
  PodStatusStore,
  SecretProviderClassSource,
  TokenPolicySource,
} from '../../../../runtime/driver/cluster/ports';
import { PodStatusJournal } from '../../../../runtime/driver/cluster/pod-status-journal';
import { csiServices } from '../../../../runtime/driver/csi/services';
import { DriverMetrics } from '../../../../runtime/driver/report/driver-metrics';
import { Mounter, readMountPoints } from '../../../../runtime/driver/volume/mounter';
import { NodeServer, PublishedVolume } from '../../../../runtime/driver/csi/node-server';
import { ProviderClients } from '../../../../runtime/driver/provider-client/provider-clients';
import { RotationGate } from '../../../../runtime/driver/volume/rotation-gate';
import {
  csiService,
  EPHEMERAL_KEY,
  NodePublishVolumeRequest,
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  POD_UID_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  SERVICE_ACCOUNT_NAME_KEY,
} from '../../../../runtime/wire/csi';

/** Root is needed for mount(2); in CI a test that cannot mount fails, elsewhere it is reported and skipped. */
/** The gRPC error a call fails with; fails the test when the call succeeds. */
export function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: grpc.ServiceError) => err,
  );
}

/** Unmounts every mount point under a test's temporary `root` (left by a failed test too), then removes it. */
export async function removeTestRoot(root: string): Promise<void> {
  for (const m of [...readMountPoints('/proc/self/mountinfo')].filter((p) => p.startsWith(root)))
    await new Mounter().unmount(m).catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
}

export function canMount(testName: string): boolean {
  if (process.getuid?.() === 0) return true;
  const reason = `${testName} needs root (tmpfs mounts); run it as root`;
  if (process.env.CI === 'true') throw new Error(reason);
  console.warn(`${reason}; not run here`);
  return false;
}

/** Stands in for `describe` outside CI when not root: one test that says why nothing ran. */
export function notRunWithoutRoot(name: string): void {
  it(`${name}: not run (needs root for tmpfs mounts)`, () => {
    console.warn(`${name}: not run here; run the tests as root`);
  });
}

export interface DriverHarnessProps {
  readonly secretProviderClasses: SecretProviderClassSource;
  readonly podStatuses: PodStatusStore;
  readonly pods: PodSource;
  readonly events: PodEventRecorder;
  readonly tokenPolicy: TokenPolicySource;
  readonly nodeId?: string;
  /** Rotation poll interval in ms; no rotation when absent. */
  readonly rotationPollIntervalMs?: number;
  readonly now?: () => number;
  readonly onPublished?: (volume: PublishedVolume) => Promise<void>;
  /** `--max-call-recv-msg-size`. @default 4194304 */
  readonly maxCallRecvMsgSize?: number;
  /** Backoff before a retry of an UNAVAILABLE provider call. @default 50 */
  readonly providerBackoffMs?: number;
  /** `--provider-start-wait` (provider-start-wait.test.ts tests the wait itself). @default 300 */
  readonly providerStartWaitMs?: number;
  /** Retry delays of a failed background SPCPS write. @default the driver's (500 ms .. 30 s) */
  readonly podStatusRetry?: { readonly initialMs: number; readonly maxMs: number };
}

export class DriverHarness {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-driver-'));
  readonly providersDir = path.join(this.root, 'providers');
  readonly extraProvidersDir = path.join(this.root, 'providers-extra');
  readonly socketPath = path.join(this.root, 'csi.sock');
  /** The SPCPS restart journal, beside the socket as in the driver process. */
  readonly journalDir = path.join(this.root, 'pod-status-journal');
  readonly logLines: string[] = [];
  readonly metrics = new DriverMetrics();
  readonly nodeId: string;
  private server?: UnixGrpcServer;
  private providers?: ProviderClients;
  private nodeServer?: NodeServer;
  node!: grpc.Client;
  identity!: grpc.Client;
  controller!: grpc.Client;

  constructor(private readonly props: DriverHarnessProps) {
    this.nodeId = props.nodeId ?? 'node-under-test';
    fs.mkdirSync(this.providersDir);
    fs.mkdirSync(this.extraProvidersDir);
  }

  /** Starts the driver; the SPCPS writes its journal holds are resumed first, as at a driver start. */
  async start(): Promise<void> {
    const logger = new Logger({ level: 'debug', sink: (line) => this.logLines.push(line) });
    this.providers = new ProviderClients({
      providerDirs: [this.extraProvidersDir, this.providersDir],
      initialBackoffMs: this.props.providerBackoffMs ?? 50,
      providerStartWaitMs: this.props.providerStartWaitMs ?? 300,
      maxCallRecvMsgSize: this.props.maxCallRecvMsgSize,
    });
    const nodeServer = (this.nodeServer = new NodeServer({
      nodeId: this.nodeId,
      mounter: new Mounter(),
      providers: this.providers,
      secretProviderClasses: this.props.secretProviderClasses,
      podStatuses: this.props.podStatuses,
      pods: this.props.pods,
      events: this.props.events,
      tokenPolicy: this.props.tokenPolicy,
      metrics: this.metrics,
      logger,
      rotation:
        this.props.rotationPollIntervalMs !== undefined
          ? new RotationGate({ pollIntervalMs: this.props.rotationPollIntervalMs, now: this.props.now })
          : undefined,
      onPublished: this.props.onPublished,
      podStatusJournal: new PodStatusJournal({
        dir: this.journalDir,
        onInvalidEntry: (file, why) => this.logLines.push(`invalid journal entry ${file}: ${why}`),
      }),
      podStatusRetry: this.props.podStatusRetry,
    }));
    try {
      nodeServer.resumePendingPodStatuses();
    } catch (err) {
      this.logLines.push(`pod status journal not read: ${(err as Error).message}`); // as main.ts logs it
    }
    this.server = await startUnixGrpcServer({
      socketPath: this.socketPath,
      services: csiServices({ nodeId: this.nodeId, nodeServer, logger }),
    });
    this.node = createUnixGrpcClient(csiService('Node'), this.socketPath);
    this.identity = createUnixGrpcClient(csiService('Identity'), this.socketPath);
    this.controller = createUnixGrpcClient(csiService('Controller'), this.socketPath);
  }

  /** kubelet's target path for a pod volume, under this harness's root. */
  targetPath(podUid: string, volume = 'secrets-store'): string {
    return path.join(this.root, 'kubelet', 'pods', podUid, 'volumes', 'kubernetes.io~csi', volume, 'mount');
  }

  /** One unary call on a CSI service; resolves with the response or rejects with the ServiceError. */
  call<T = Record<string, unknown>>(client: grpc.Client, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
      fn.call(client, request, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  /**
   * Waits, at most `timeoutMs`, for the work the driver left running after answering: the SPCPS write of
   * a publish, the SPCPS delete of an unpublish.
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the driver's background work did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.nodeServer?.whenIdle(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A driver restart that keeps the node as it is (mounts, journal): the gRPC server and the node server
   * go, new ones start with the same directories, as a restarted driver container would.
   */
  async restart(): Promise<void> {
    for (const c of [this.node, this.identity, this.controller]) c?.close();
    this.nodeServer?.stop();
    this.providers?.close();
    await this.server?.close(1000);
    await this.start();
  }

  publish(request: unknown): Promise<unknown> {
    return this.call(this.node, 'NodePublishVolume', request);
  }

  unpublish(request: unknown): Promise<unknown> {
    return this.call(this.node, 'NodeUnpublishVolume', request);
  }

  isMounted(target: string): boolean {
    return fs.existsSync(target) && readMountPoints('/proc/self/mountinfo').has(fs.realpathSync(target));
  }

  async metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  async stop(): Promise<void> {
    for (const c of [this.node, this.identity, this.controller]) c?.close();
    this.nodeServer?.stop();
    this.providers?.close();
    await this.server?.close(1000);
    // Never leave a tmpfs behind, whatever a test did.
    const mounts = [...readMountPoints('/proc/self/mountinfo')]
      .filter((m) => m.startsWith(this.root))
      .sort((a, b) => b.length - a.length);
    const mounter = new Mounter();
    for (const m of mounts) await mounter.unmount(m).catch(() => undefined);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** A NodePublishVolumeRequest as kubelet sends it for an inline CSI volume with podInfoOnMount. */
export function publishRequest(props: {
  targetPath: string;
  spc: string;
  pod: { name: string; namespace: string; uid: string };
  readonly?: boolean;
  secrets?: Record<string, string>;
  extraContext?: Record<string, string>;
}): NodePublishVolumeRequest {
  return {
    volume_id: `csi-${props.pod.uid}`,
    target_path: props.targetPath,
    volume_capability: { mount: {}, access_mode: { mode: 'SINGLE_NODE_READER_ONLY' } },
    readonly: props.readonly ?? true,
    secrets: props.secrets ?? {},
    volume_context: {
      [SECRET_PROVIDER_CLASS_KEY]: props.spc,
      [POD_NAME_KEY]: props.pod.name,
      [POD_NAMESPACE_KEY]: props.pod.namespace,
      [POD_UID_KEY]: props.pod.uid,
      [SERVICE_ACCOUNT_NAME_KEY]: 'default',
      [EPHEMERAL_KEY]: 'true',
      ...props.extraContext,
    },
  };
}
