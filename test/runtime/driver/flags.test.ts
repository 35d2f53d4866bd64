import { parseFlags } from '../../../runtime/common/go-compat/flags';
import { parseDriverFlags, parseListenAddress, providerDirs } from '../../../runtime/driver/flags';
import { PROVIDER_FLAGS } from '../../../runtime/provider/flags';

describe('driver flags', () => {
  it('has upstream defaults', () => {
    const { flags } = parseDriverFlags(['--nodeid=node-1']);
    expect(flags).toMatchObject({
      endpoint: 'unix://tmp/csi.sock',
      drivername: 'secrets-store.csi.k8s.io',
      'provider-volume': '/var/run/secrets-store-csi-providers',
      'additional-provider-volume-paths': '/etc/kubernetes/secrets-store-csi-providers',
      'metrics-addr': ':8095',
      'enable-secret-rotation': false,
      'rotation-poll-interval': 120_000,
      'max-call-recv-msg-size': 4194304,
      'provider-start-wait': 5000,
    });
    // Upstream's search order: the additional directories first, then --provider-volume.
    expect(providerDirs(flags)).toEqual([
      '/etc/kubernetes/secrets-store-csi-providers',
      '/var/run/secrets-store-csi-providers',
    ]);
  });

  it("releases memory every 3 s by default (the provider every 10 s), and takes the flag's values", () => {
    expect(parseDriverFlags(['--nodeid=n']).flags['memory-release-interval']).toBe(3000);
    expect(parseFlags([], PROVIDER_FLAGS).flags['memory-release-interval']).toBe(10_000);
    expect(
      parseDriverFlags(['--nodeid=n', '--memory-release-interval=0']).flags['memory-release-interval'],
    ).toBe(0);
    expect(() => parseDriverFlags(['--nodeid=n', '--memory-release-interval=500ms'])).toThrow(
      /--memory-release-interval/,
    );
  });

  it('takes the upstream DaemonSet arguments unchanged', () => {
    const { flags } = parseDriverFlags([
      '--endpoint=unix:///csi/csi.sock',
      '--nodeid=aks-node-1',
      '--provider-volume=/var/run/secrets-store-csi-providers',
      '--additional-provider-volume-paths=/etc/kubernetes/secrets-store-csi-providers,/opt/providers',
      '--metrics-addr=:8095',
      '--enable-secret-rotation=true',
      '--rotation-poll-interval=30s',
      '--max-call-recv-msg-size=8388608',
      '--provider-health-check=false',
      '-v=5',
    ]);
    expect(flags['rotation-poll-interval']).toBe(30_000);
    expect(flags['enable-secret-rotation']).toBe(true);
    expect(flags.v).toBe(5);
    expect(providerDirs(flags)).toEqual([
      '/etc/kubernetes/secrets-store-csi-providers',
      '/opt/providers',
      '/var/run/secrets-store-csi-providers',
    ]);
  });

  it.each([
    [['--nodeid=n', '--no-such-flag=1'], 'flag provided but not defined: --no-such-flag'],
    [[], '--nodeid is required'],
    [['--nodeid=n', '--rotation-poll-interval=2'], '--rotation-poll-interval'],
    [['--nodeid=n', '--metrics-addr=8095'], '--metrics-addr=8095 is not a listen address'],
    [['--nodeid=n', '--metrics-backend=otlp'], '--metrics-backend=otlp is not supported'],
    [['--nodeid=n', '--tmpfs-size=lots'], '--tmpfs-size=lots is not valid'],
    [['--nodeid=n', '--max-call-recv-msg-size=0'], '--max-call-recv-msg-size must be a positive'],
    [['--nodeid=n', '--provider-start-wait=-1s'], 'for flag --provider-start-wait'],
    [['--nodeid=n', '--provider-start-wait=61s'], '--provider-start-wait must be between 0'],
    [['--nodeid=n', '--provider-start-wait=5'], '--provider-start-wait'],
  ])('rejects %j naming the flag', (args, text) => {
    expect(() => parseDriverFlags(args)).toThrow(text);
  });

  it('takes --provider-start-wait from 0 (fail at once, as upstream) to 1m', () => {
    expect(parseDriverFlags(['--nodeid=n', '--provider-start-wait=0']).flags['provider-start-wait']).toBe(0);
    expect(parseDriverFlags(['--nodeid=n', '--provider-start-wait=1m']).flags['provider-start-wait']).toBe(
      60_000,
    );
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress(':8095', 'x')).toEqual({ host: undefined, port: 8095 });
    expect(parseListenAddress('127.0.0.1:0', 'x')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9808', 'x')).toEqual({ host: '::1', port: 9808 });
  });
});
