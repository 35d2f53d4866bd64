// Entry point of the driver process (`aks-secrets-store driver <flags>`): wires flags, the Kubernetes
// client, the provider clients, the CSI gRPC server on --endpoint and the /metrics + /healthz endpoint,
// and shuts all of it down cleanly on SIGTERM (kubelet's DaemonSet rollout) or SIGINT.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createUnixGrpcClient,
  socketPathFromEndpoint,
  startUnixGrpcServer,
  unaryCall,
} from '../common/net/grpc-unix';
import { Logger } from '../common/logging/logger';
import { startHttpEndpoints, HttpEndpoints } from '../common/net/http-endpoints';
import { packageVersion } from '../../lib/core/package-version';
import { csiService } from '../wire/csi';
import { csiServices } from './csi/services';
import { driverUsage, parseDriverFlags, parseListenAddress, providerDirs } from './flags';
import { DriverMetrics } from './report/driver-metrics';
import {
  CachedSecretProviderClassSource,
  csiDriverCache,
  KubePodEventRecorder,
  KubePodStatusStore,
  KubeTokenPolicySource,
} from './cluster/kube-bindings';
import { MetricLabels } from './report/metric-labels';
import { EventRecorder } from './cluster/kube/event-recorder';
import { KubeClient } from './cluster/kube/kube-client';
import { loadKubeConfig } from './cluster/kube/kube-config';
import { SECRET_PROVIDER_CLASSES } from './cluster/kube/kube-resources';
import type { SecretProviderClass } from './cluster/kube/kube-types';
import { isWorthReporting, WatchCache } from './cluster/kube/watch-cache';
import { nodePodCache, NodePodSource } from './cluster/node-pod-source';
import { mountImplementation, Mounter } from './volume/mounter';
import { NodeServer } from './csi/node-server';
import { PodStatusJournal } from './cluster/pod-status-journal';
import { ProviderClients } from './provider-client/provider-clients';
import { RotationGate } from './volume/rotation-gate';
import { SecretSyncController, SecretSyncMetrics, syncSecretsAfterPublish } from './secret-sync';
import { startMemoryRelease } from '../common/memory/memory-release';

/** The restart journal's directory, beside the CSI socket (docs/operations.md). */
export const POD_STATUS_JOURNAL_DIR = 'pod-status-journal';

export async function main(args: string[]): Promise<void> {
  const { flags, help } = parseDriverFlags(args);
  if (help) {
    process.stdout.write(driverUsage());
    return;
  }
  if (flags.version) {
    process.stdout.write(
      `${JSON.stringify({ BuildVersion: packageVersion(), GitCommit: '', BuildDate: '' })}\n`,
    );
    return;
  }
  const logger = new Logger({
    level: flags.v >= 5 ? 'debug' : 'info',
    fields: { component: 'driver', node: flags.nodeid },
  });
  const socketPath = socketPathFromEndpoint(
    flags.endpoint.replace(/^unix:\/\/(?=[^/])/, 'unix:///'),
    '--endpoint',
  );
  const metricsAddress = parseListenAddress(flags['metrics-addr'], '--metrics-addr');

  const kube = new KubeClient(loadKubeConfig(), {
    userAgent: `csi-secrets-store/aks-secrets-store/${packageVersion()}`,
  });
  // Cluster-wide, as upstream's informer: a pod may mount any SPC of its own namespace. Filled in the
  // background: CSI is served at once, so unmounts work and mounts fail clearly while the API server
  // is away (a miss asks the API server directly).
  const spcCache = new WatchCache<SecretProviderClass>({
    client: kube,
    resource: SECRET_PROVIDER_CLASSES,
    onError: (err, failures) => {
      if (isWorthReporting(failures))
        logger.warn('secretproviderclass list/watch failed; retrying with backoff', {
          error: (err as Error).message,
          failures,
        });
    },
  });
  void spcCache.start().then(
    () => logger.info('secretproviderclass cache synced', { objects: spcCache.list().length }),
    () => undefined, // stopped before the first list
  );
  // This node's pods, for the target-path check of a first mount (a GET when the watch has not seen one).
  const nodePods = nodePodCache({
    client: kube,
    nodeName: flags.nodeid,
    driverName: flags.drivername,
    warn: (message, fields) => logger.warn(message, fields),
  });
  void nodePods.start().then(
    () => logger.info('pod cache of this node synced', { pods: nodePods.list().length }),
    () => undefined, // stopped before the first list, or not allowed to list pods (logged)
  );
  // The driver's own CSIDriver: whether kubelet sends service-account tokens, and where.
  const csiDriver = csiDriverCache(kube, flags.drivername);
  const tokenPolicy = new KubeTokenPolicySource(csiDriver, flags.drivername);
  void csiDriver.start().then(
    () => {
      const policy = tokenPolicy.tokenPolicy();
      const where = !policy?.requested ? 'none' : policy.inSecrets ? 'secrets' : 'volume context';
      logger.info('csidriver read', { name: flags.drivername, kubeletTokensIn: where });
    },
    () => undefined, // stopped before the first list
  );

  const metrics = new DriverMetrics();
  const providers = new ProviderClients({
    providerDirs: providerDirs(flags),
    maxCallRecvMsgSize: flags['max-call-recv-msg-size'],
    providerStartWaitMs: flags['provider-start-wait'],
    onProviderWait: (provider, waitedMs, found) =>
      found
        ? logger.info('provider socket appeared while a mount waited for it', { provider, waitedMs })
        : logger.warn('provider socket not found within the wait', { provider, waitedMs }),
    onLargeResponse: (provider, bytes) =>
      logger.warn('provider response is larger than 1 MiB; syncing it to a Kubernetes Secret may fail', {
        provider,
        bytes,
      }),
  });
  const events = new EventRecorder({
    client: kube,
    component: 'csi-secrets-store-rotation',
    host: flags.nodeid,
    onError: (err) => logger.warn('event not recorded', { error: (err as Error).message }),
  });
  const mounter = new Mounter({ tmpfsSize: flags['tmpfs-size'] || undefined });
  const metricLabels = new MetricLabels({ isInstalledProvider: (name) => providers.isInstalled(name) });
  // Secret sync (spec.secretObjects): after every successful provider call, and on its own resync timer;
  // at start it finds this node's mounted volumes again from their SPCPS (in the background).
  const secretSync = new SecretSyncController({
    kube,
    nodeName: flags.nodeid,
    metrics: new SecretSyncMetrics(metrics.registry, (name) => metricLabels.provider(name)),
    logger: logger.child({ controller: 'secret-sync' }),
    isMounted: (targetPath) => {
      try {
        return mounter.isMountPoint(targetPath);
      } catch {
        return false;
      }
    },
  });
  void secretSync.start();
  // Next to the CSI socket: the plugin directory is a hostPath that outlives the driver's container.
  const podStatusJournal = new PodStatusJournal({
    dir: path.join(path.dirname(socketPath), POD_STATUS_JOURNAL_DIR),
    onInvalidEntry: (file, why) =>
      logger.warn('pod status journal: invalid entry deleted', { file, reason: why }),
  });
  const nodeServer = new NodeServer({
    nodeId: flags.nodeid,
    mounter,
    providers,
    secretProviderClasses: new CachedSecretProviderClassSource(kube, spcCache),
    podStatuses: new KubePodStatusStore(kube),
    podStatusJournal,
    pods: new NodePodSource(kube, nodePods),
    driverName: flags.drivername,
    tokenPolicy,
    events: new KubePodEventRecorder(events),
    metrics,
    metricLabels,
    logger,
    rotation: flags['enable-secret-rotation']
      ? new RotationGate({ pollIntervalMs: flags['rotation-poll-interval'] })
      : undefined,
    onPublished: syncSecretsAfterPublish(secretSync),
    onUnpublished: (targetPath) => secretSync.forget(targetPath),
  });

  // Before CSI is served, so no publish or unpublish of a path can race its resumed write.
  try {
    const resumed = nodeServer.resumePendingPodStatuses();
    if (resumed > 0)
      logger.info('secretproviderclasspodstatus writes resumed from the journal', {
        volumes: resumed,
        dir: podStatusJournal.dir,
      });
  } catch (err) {
    logger.error('pod status journal not read; SPCPS writes owed before the restart are not resumed', {
      dir: podStatusJournal.dir,
      error: (err as Error).message,
    });
  }
  const server = await startUnixGrpcServer({
    socketPath,
    services: csiServices({ nodeId: flags.nodeid, nodeServer, logger, driverName: flags.drivername }),
  });
  // Health = the CSI Probe answered over our own socket, what the liveness-probe sidecar checks.
  const identity = createUnixGrpcClient<grpc.Client>(csiService('Identity'), socketPath);
  const healthz = async (): Promise<void> => {
    await unaryCall(identity, 'Probe', {}, 3000);
  };
  const endpoints: HttpEndpoints[] = [
    await startHttpEndpoints({ ...metricsAddress, registry: metrics.registry, healthz }),
  ];
  if (flags['healthz-port'] > 0)
    endpoints.push(await startHttpEndpoints({ port: flags['healthz-port'], healthz }));
  const mounts = mountImplementation();
  logger.info('driver started', {
    driver: flags.drivername,
    version: packageVersion(),
    endpoint: socketPath,
    rotation: flags['enable-secret-rotation'],
    rotationPollInterval: flags['rotation-poll-interval'],
    mounts: mounts.calls,
  });
  if (mounts.reason)
    logger.warn('tmpfs mounts run the mount binaries; each costs a fork and exec', { reason: mounts.reason });

  const memoryRelease = startMemoryRelease({ intervalMs: flags['memory-release-interval'], logger });

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  memoryRelease.stop();
  await server.close(10_000);
  // Let the last SPCPS writes and deletes finish, but never hold a rollout for an API server that is
  // away: a write still owed stays in the journal for the next start.
  await Promise.race([nodeServer.whenIdle(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  nodeServer.stop();
  identity.close();
  providers.close();
  await secretSync.stop();
  await Promise.all([spcCache.stop(), nodePods.stop(), csiDriver.stop()]);
  await Promise.all(endpoints.map((e) => e.close()));
  kube.close();
}
