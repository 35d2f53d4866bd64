// The cluster is found as kubectl finds it (--kubeconfig, KUBECONFIG, ~/.kube/config, in cluster), and a
// credential plugin (kubelogin on AKS) is run as client-go runs it: a real process, given
// KUBERNETES_EXEC_INFO, printing an ExecCredential.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CouldNotCheck } from '../../../runtime/doctor/cluster-reader';
import { findKubeConfig } from '../../../runtime/doctor/kubeconfig';
import { parseDoctorArgs, UsageError } from '../../../runtime/doctor/main';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-kubeconfig-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, server: string, user: object = { token: 'static' }): string {
  const full = path.join(dir, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(
    full,
    JSON.stringify({
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: 'team-a' } }],
    }),
  );
  return full;
}

describe('where the kubeconfig comes from', () => {
  const home = path.join(dir, 'home');
  kubeconfig('home/.kube/config', 'https://home.example');
  const envFile = kubeconfig('env.kubeconfig', 'https://env.example');
  const flagFile = kubeconfig('flag.kubeconfig', 'https://flag.example');

  test('--kubeconfig, then KUBECONFIG, then ~/.kube/config, then in cluster', () => {
    expect(findKubeConfig({ kubeconfig: flagFile, env: { KUBECONFIG: envFile }, home }).config.server).toBe(
      'https://flag.example',
    );
    expect(findKubeConfig({ env: { KUBECONFIG: envFile }, home }).config.server).toBe('https://env.example');
    const found = findKubeConfig({ env: {}, home });
    expect(found).toMatchObject({
      source: path.join(home, '.kube', 'config'),
      config: { server: 'https://home.example', namespace: 'team-a' },
    });
    const sa = path.join(dir, 'sa');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), 'tok');
    fs.writeFileSync(path.join(sa, 'namespace'), 'ops');
    expect(
      findKubeConfig({
        env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
        home: path.join(dir, 'nohome'),
        serviceAccountDir: sa,
      }),
    ).toMatchObject({
      source: 'in-cluster service account',
      config: { server: 'https://10.0.0.1:443', namespace: 'ops' },
    });
  });

  test('nothing at all is "could not check", with how to get a kubeconfig', () => {
    let err: unknown;
    try {
      findKubeConfig({ env: {}, home: path.join(dir, 'nohome') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CouldNotCheck);
    expect((err as CouldNotCheck).fix).toContain('az aks get-credentials');
  });
});

describe('credential plugins', () => {
  const plugin = path.join(dir, 'bin', 'fake-kubelogin');
  fs.mkdirSync(path.dirname(plugin), { recursive: true });
  // Prints a token that proves it got the args, the env and KUBERNETES_EXEC_INFO.
  fs.writeFileSync(
    plugin,
    `#!/bin/sh\ninfo=$(printf '%s' "$KUBERNETES_EXEC_INFO" | tr -d ' "' )\nprintf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s-%s-%s"}}' "$1" "$LOGIN_METHOD" "$(echo "$info" | grep -c kind:ExecCredential)"\n`,
    { mode: 0o755 },
  );

  test('its token is used; args and env are passed; a relative command is relative to the kubeconfig', () => {
    const file = kubeconfig('exec.kubeconfig', 'https://aks.example', {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: './bin/fake-kubelogin',
        args: ['get-token'],
        env: [{ name: 'LOGIN_METHOD', value: 'azurecli' }],
      },
    });
    expect(findKubeConfig({ kubeconfig: file, env: { PATH: process.env.PATH } }).config.token).toBe(
      'get-token-azurecli-1',
    );
  });

  test('a missing plugin says what to install', () => {
    const file = kubeconfig('missing.kubeconfig', 'https://aks.example', {
      exec: { command: 'kubelogin-not-installed-here', installHint: 'install kubelogin: az aks install-cli' },
    });
    expect(() => findKubeConfig({ kubeconfig: file, env: { PATH: '/nonexistent' } })).toThrow(
      "the kubeconfig's user runs the credential plugin kubelogin-not-installed-here, which is not installed",
    );
  });

  test('a plugin that prints no credential is "could not check"', () => {
    const silent = path.join(dir, 'bin', 'silent');
    fs.writeFileSync(silent, '#!/bin/sh\necho not-json\n', { mode: 0o755 });
    const file = kubeconfig('silent.kubeconfig', 'https://aks.example', { exec: { command: silent } });
    expect(() => findKubeConfig({ kubeconfig: file, env: {} })).toThrow(/printed no ExecCredential/);
  });
});

describe('the command line', () => {
  test('kubectl-style targets and flags', () => {
    expect(parseDoctorArgs(['deploy/web', '-n', 'team-a', '-o', 'json'])).toMatchObject({
      workload: { kind: 'deployment', name: 'web' },
      namespace: 'team-a',
      output: 'json',
    });
    expect(parseDoctorArgs(['pod/web-0'])).toMatchObject({
      pod: 'web-0',
      output: 'text',
      probeMetrics: true,
    });
    expect(parseDoctorArgs(['--spc', 'app', '--no-metrics'])).toMatchObject({
      secretProviderClass: 'app',
      probeMetrics: false,
    });
    expect(parseDoctorArgs(['statefulset/db', '--secret-provider-class', 'db-kv'])).toMatchObject({
      workload: { kind: 'statefulset', name: 'db' },
      secretProviderClass: 'db-kv',
    });
  });

  test('bad input is refused with the value and the fix', () => {
    expect(() => parseDoctorArgs(['--output', 'yaml'])).toThrow(
      '--output yaml is not a format; use text or json',
    );
    expect(() => parseDoctorArgs(['web'])).toThrow(/"web" is not <kind>\/<name>/);
    expect(() => parseDoctorArgs(['cronjob/x'])).toThrow(UsageError);
    expect(() => parseDoctorArgs(['--pod', 'Web_0'])).toThrow(/--pod "Web_0" is not a Kubernetes name/);
    expect(() => parseDoctorArgs(['--pod', 'a', 'deployment/b'])).toThrow(
      'name a pod or a workload, not both',
    );
    expect(() => parseDoctorArgs(['--frobnicate'])).toThrow(/see --help/);
  });
});
