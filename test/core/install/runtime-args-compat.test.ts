// The DaemonSet args rendered here must be accepted by our own runtime's flag parser (engineer F's
// driver), and resolve to the same directories and ports the DaemonSet mounts and exposes.
import { renderSelfHostedInstall } from '../../../lib/core/install';
import { parseDriverFlags, providerDirs } from '../../../runtime/driver/driver-flags';
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
