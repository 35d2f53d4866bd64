// The DaemonSet args rendered here must be accepted by our own runtime's flag parsers (F's driver,
// E's provider), and resolve to the same directories and ports the DaemonSet mounts and exposes.
import { renderSelfHostedInstall } from '../../../lib/core/install';
import { parseFlags } from '../../../runtime/common/go-compat/flags';
import { parseDriverFlags, providerDirs } from '../../../runtime/driver/flags';
import { PROVIDER_FLAGS } from '../../../runtime/provider/flags';
import { container, find } from './install-test-helpers';

function driverArgs(options: Parameters<typeof renderSelfHostedInstall>[0]): string[] {
  const args = container(
    find(renderSelfHostedInstall(options), 'DaemonSet', 'csi-secrets-store'),
    'secrets-store',
  ).args;
  expect(args[0]).toBe('driver');
  // Kubelet expands $(VAR) from the container env before the process starts.
  return args
    .slice(1)
    .map((a) => a.replace('$(CSI_ENDPOINT)', 'unix:///csi/csi.sock').replace('$(KUBE_NODE_NAME)', 'node-1'));
}

describe('driver args vs our runtime driver flags', () => {
  it('parses the default args to what the DaemonSet mounts and exposes', () => {
    const { flags } = parseDriverFlags(driverArgs({}));
    expect(flags.endpoint).toBe('unix:///csi/csi.sock');
    expect(flags.nodeid).toBe('node-1');
    expect(flags['metrics-addr']).toBe(':8095');
    expect(flags['enable-secret-rotation']).toBe(true);
    expect(flags['rotation-poll-interval']).toBe(120_000);
    expect(providerDirs(flags)).toEqual([
      '/etc/kubernetes/secrets-store-csi-providers',
      '/var/run/secrets-store-csi-providers',
    ]);
  });

  it('parses customised args: rotation off, a custom interval, verbosity and no extra provider dirs', () => {
    const { flags } = parseDriverFlags(
      driverArgs({
        enableSecretRotation: false,
        rotationPollInterval: '1h30m',
        additionalProvidersDirs: [],
        logVerbosity: 5,
      }),
    );
    expect(flags['enable-secret-rotation']).toBe(false);
    expect(flags['rotation-poll-interval']).toBe(90 * 60_000);
    expect(flags.v).toBe(5);
    expect(providerDirs(flags)).toEqual(['/var/run/secrets-store-csi-providers']);
  });
});

function providerArgs(options: Parameters<typeof renderSelfHostedInstall>[0]): string[] {
  const args = container(
    find(renderSelfHostedInstall(options), 'DaemonSet', 'csi-secrets-store-provider-azure'),
    'provider-azure-installer',
  ).args;
  expect(args[0]).toBe('provider');
  return args.slice(1);
}

describe('provider args vs our runtime provider flags', () => {
  it('parses the default args to the socket, health and metrics the DaemonSet mounts and probes', () => {
    const { flags, positional } = parseFlags(providerArgs({}), PROVIDER_FLAGS);
    expect(positional).toEqual([]);
    expect(flags.endpoint).toBe('unix:///provider/azure.sock');
    expect(flags['construct-pem-chain']).toBe(true);
    expect(flags['healthz-port']).toBe(8989);
    expect(flags['healthz-path']).toBe('/healthz');
    expect(flags['healthz-timeout']).toBe(5000);
    // Not passed: the default is the port the DaemonSet declares.
    expect(flags['metrics-port']).toBe(8898);
  });

  it('maps klog verbosity onto our provider log level', () => {
    expect(parseFlags(providerArgs({ logVerbosity: 5 }), PROVIDER_FLAGS).flags['log-level']).toBe('debug');
    expect(parseFlags(providerArgs({ logVerbosity: 2 }), PROVIDER_FLAGS).flags['log-level']).toBe('info');
  });

  it('keeps klog -v for the upstream provider binary', () => {
    const args = container(
      find(
        renderSelfHostedInstall({ images: { useUpstreamImages: true }, logVerbosity: 3 }),
        'DaemonSet',
        'csi-secrets-store-provider-azure',
      ),
      'provider-azure-installer',
    ).args;
    expect(args).toContain('-v=3');
    expect(args.some((a) => a.startsWith('--log-level'))).toBe(false);
  });
});
