// Entry point of `aks-secrets-store provider`: the Azure Key Vault provider for the Secrets Store
// CSI driver. Serves gRPC on a unix socket, /healthz (a real gRPC call over that socket) and
// /metrics; stops cleanly on SIGTERM/SIGINT (drain, then remove the socket).
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { FlagError, formatFlagUsage, parseFlags } from '../common/go-compat/flags';
import {
  createUnixGrpcClient,
  socketPathFromEndpoint,
  unaryCall,
  UnixGrpcServer,
} from '../common/net/grpc-unix';
import { isLogLevel, Logger } from '../common/logging/logger';
import { HttpEndpoints, startHttpEndpoints } from '../common/net/http-endpoints';
import { knownCloud, resolveCloud } from './clouds';
import { PROVIDER_FLAGS } from './flags';
import { checkServerName, parseTokenProxyUrl, TokenProxyTarget } from './identity/token-proxy-target';
import { ProviderMetrics } from './metrics';
import { MountService } from './mount';
import { encodedMountResponseSize, providerService } from '../wire/provider-v1alpha1';
import { startProviderServer } from './server';
import { warmUpMountPath } from './warm-up';
import { OUTAGE_MAX_STALENESS_LIMIT_MS } from '../../lib/core/last-known-content';
import { packageVersion } from '../../lib/core/package-version';
import { RUNTIME_NAME } from './version';
import { checkMemoryReleaseInterval, startMemoryRelease } from '../common/memory/memory-release';

/** A running provider (returned for in-process tests; the CLI waits for a signal). */
export interface RunningProvider {
  readonly socketPath: string;
  readonly healthzPort: number;
  readonly metricsPort: number;
  readonly mountService: MountService;
  readonly metrics: ProviderMetrics;
  stop(): Promise<void>;
}

/** Options of an in-process start. */
export interface StartProviderOptions {
  /** Where log lines go. @default stderr */
  readonly logSink?: (line: string) => void;
  /**
   * Run --memory-release-interval's schedule (runtime/common/memory): the CLI does; an in-process start
   * does not, since the pages it would release are its host's. @default false
   */
  readonly releaseMemory?: boolean;
}

export async function startProvider(
  args: readonly string[],
  options: StartProviderOptions = {},
): Promise<RunningProvider> {
  const { flags } = parseFlags(args, PROVIDER_FLAGS);
  if (!isLogLevel(flags['log-level']))
    throw new FlagError(
      `invalid value "${flags['log-level']}" for flag --log-level: use debug, info, warn or error`,
    );
  const logger = new Logger({
    level: flags['log-level'],
    sink: options.logSink,
    fields: { component: 'provider' },
  });
  const socketPath = socketPathFromEndpoint(flags.endpoint, '--endpoint');
  let defaultCloud;
  try {
    defaultCloud =
      flags['cloud-name'].toUpperCase() === 'AZURESTACKCLOUD'
        ? await resolveCloud({
            cloudName: flags['cloud-name'],
            cloudEnvFileName: '',
            defaultCloud: knownCloud('AzurePublicCloud'),
          })
        : knownCloud(flags['cloud-name']);
  } catch (err) {
    throw new FlagError(
      `invalid value "${flags['cloud-name']}" for flag --cloud-name: ${(err as Error).message}`,
    );
  }
  for (const name of [
    'vault-rate-limit',
    'vault-burst',
    'mount-concurrency',
    'max-response-bytes',
    'cache-max-entries',
  ] as const) {
    if (flags[name] < 1)
      throw new FlagError(`invalid value "${flags[name]}" for flag --${name}: must be at least 1`);
  }
  if (flags['mount-admission-slots'] < 0 || flags['mount-admission-slots'] > 1000)
    throw new FlagError(
      `invalid value "${flags['mount-admission-slots']}" for flag --mount-admission-slots: must be from 0 (no gate) to 1000`,
    );
  if (flags['mount-admission-lease'] < 1 || flags['mount-admission-lease'] > 120_000)
    throw new FlagError(
      `invalid value "${flags['mount-admission-lease']}ms" for flag --mount-admission-lease: must be from 1ms to 2m`,
    );
  checkMemoryReleaseInterval(flags['memory-release-interval']);
  if (flags['outage-max-staleness'] < 0 || flags['outage-max-staleness'] > OUTAGE_MAX_STALENESS_LIMIT_MS)
    throw new FlagError(
      `invalid value "${flags['outage-max-staleness']}ms" for flag --outage-max-staleness: must be from 0s (off) to 168h`,
    );
  const cloudEnvFileDir = flags['cloud-env-file-dir'];
  if (cloudEnvFileDir !== '') {
    const isDirectory = await stat(cloudEnvFileDir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!path.isAbsolute(cloudEnvFileDir) || !isDirectory)
      throw new FlagError(
        `invalid value "${cloudEnvFileDir}" for flag --cloud-env-file-dir: must be the absolute path of a directory`,
      );
  }
  const tokenProxyFlags = { 'token-proxy-url': parseTokenProxyUrl, 'sni-name': checkServerName } as const;
  for (const [flag, check] of Object.entries(tokenProxyFlags) as [
    keyof typeof tokenProxyFlags,
    (v: string) => unknown,
  ][]) {
    try {
      if (flags[flag] !== '') check(flags[flag]);
    } catch (err) {
      throw new FlagError(`invalid value "${flags[flag]}" for flag --${flag}: ${(err as Error).message}`);
    }
  }
  const tokenProxy = new TokenProxyTarget({ url: flags['token-proxy-url'], serverName: flags['sni-name'] });
  const metrics = new ProviderMetrics();
  const mountService = new MountService({
    constructPemChain: flags['construct-pem-chain'],
    writeCertAndKeyInSeparateFiles: flags['write-cert-and-key-in-separate-files'],
    defaultCloud,
    logger,
    metrics,
    cloudEnvFileDir,
    tokenProxy,
    cacheMaxAgeMs: flags['cache-max-age'],
    rotationCacheMaxAgeMs: flags['rotation-cache-max-age'],
    cacheMaxEntries: flags['cache-max-entries'],
    outageMaxStalenessMs: flags['outage-max-staleness'],
    mountConcurrency: flags['mount-concurrency'],
    admission: { slots: flags['mount-admission-slots'], leaseMs: flags['mount-admission-lease'] },
    maxResponseBytes: flags['max-response-bytes'],
    measureResponse: encodedMountResponseSize,
    vault: {
      requestTimeoutMs: flags['keyvault-timeout'],
      maxRetries: flags['keyvault-max-retries'],
      vaultRatePerSecond: flags['vault-rate-limit'],
      vaultBurst: flags['vault-burst'],
    },
  });
  // The first Mount's compile and inline-cache cost, paid before the socket exists (warm-up.ts).
  await warmUpMountPath(defaultCloud).catch((err: unknown) =>
    logger.debug('mount path warm-up failed; the first Mount pays its cost', {
      error: (err as Error).message,
    }),
  );
  const grpcServer: UnixGrpcServer = await startProviderServer({
    socketPath,
    mountService,
    metrics,
    logger,
    // Headroom over the checked limit so an oversized response fails with our message, not grpc's.
    maxSendMessageBytes: flags['max-response-bytes'] + 64 * 1024,
  });
  const healthClient = createUnixGrpcClient<grpc.Client>(providerService(), socketPath);
  const host = flags['http-listen-address'] || undefined;
  let healthz: HttpEndpoints | undefined;
  let metricsHttp: HttpEndpoints | undefined;
  try {
    healthz = await startHttpEndpoints({
      port: flags['healthz-port'],
      host,
      healthzPath: flags['healthz-path'],
      healthz: async () => {
        await unaryCall(healthClient, 'Version', { version: 'v1alpha1' }, flags['healthz-timeout']);
      },
    });
    metricsHttp = await startHttpEndpoints({
      port: flags['prometheus-port'] >= 0 ? flags['prometheus-port'] : flags['metrics-port'],
      host,
      registry: metrics.registry,
    });
  } catch (err) {
    await healthz?.close();
    healthClient.close();
    await grpcServer.close(0);
    mountService.close();
    throw err;
  }
  logger.info('provider started', {
    runtime: RUNTIME_NAME,
    version: packageVersion(),
    socket: socketPath,
    healthzPort: healthz.port,
    metricsPort: metricsHttp.port,
    constructPemChain: flags['construct-pem-chain'],
    writeCertAndKeyInSeparateFiles: flags['write-cert-and-key-in-separate-files'],
    cacheMaxAgeMs: flags['cache-max-age'],
    rotationCacheMaxAgeMs: flags['rotation-cache-max-age'],
    outageMaxStalenessMs: flags['outage-max-staleness'],
  });
  // After the warm-up and the first answers' set-up, so the pages only start-up used go back at once.
  const memoryRelease = startMemoryRelease({
    intervalMs: options.releaseMemory ? flags['memory-release-interval'] : 0,
    logger,
  });
  let stopping: Promise<void> | undefined;
  const httpHealthz = healthz;
  const httpMetrics = metricsHttp;
  return {
    socketPath,
    healthzPort: healthz.port,
    metricsPort: metricsHttp.port,
    mountService,
    metrics,
    stop() {
      stopping ??= (async () => {
        logger.info('provider stopping', { graceMs: flags['shutdown-grace'] });
        memoryRelease.stop();
        healthClient.close();
        await grpcServer.close(flags['shutdown-grace']);
        await Promise.all([httpHealthz.close(), httpMetrics.close()]);
        mountService.close();
        logger.info('provider stopped');
      })();
      return stopping;
    },
  };
}

export async function main(args: string[]): Promise<void> {
  // SIGTERM and SIGINT are taken before the start: one that comes while the provider starts stops it as
  // soon as it has started. (Without a handler Node dies of the signal, exit 143, its socket left behind;
  // kubelet and the tests send SIGTERM as soon as the process says it started.)
  let signalled: NodeJS.Signals | undefined;
  let stopOnSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const stopTakingSignals = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stopTakingSignals();
    if (stopOnSignal) stopOnSignal(signal);
    else signalled = signal;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let provider: RunningProvider;
  try {
    if (parseFlags(args, PROVIDER_FLAGS).help) {
      process.stdout.write(formatFlagUsage('aks-secrets-store provider', PROVIDER_FLAGS));
      stopTakingSignals();
      return;
    }
    provider = await startProvider(args, { releaseMemory: true });
  } catch (err) {
    stopTakingSignals();
    if (err instanceof FlagError) {
      process.stderr.write(`${JSON.stringify({ level: 'error', msg: err.message })}\n`);
      process.exit(2);
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    stopOnSignal = (signal: NodeJS.Signals) => {
      provider.stop().then(resolve, (err: unknown) => {
        process.stderr.write(
          `${JSON.stringify({ level: 'error', msg: 'shutdown failed', signal, error: String(err) })}\n`,
        );
        resolve();
      });
    };
    if (signalled) stopOnSignal(signalled);
  });
}
