// Kubeconfig and in-cluster configuration loading (no API server needed): current context, relative
// file paths, *-data fields, token files, several files in KUBECONFIG, and errors that say what to fix.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadInClusterConfig,
  loadKubeConfig,
  loadKubeConfigFile,
} from '../../../../../runtime/driver/cluster/kube/kube-config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe('loadKubeConfig from KUBECONFIG', () => {
  it('resolves the current context: server, CA and client cert files relative to the kubeconfig, namespace', () => {
    write('certs/ca.crt', 'CA-PEM');
    write('certs/client.crt', 'CLIENT-PEM');
    const kubeconfig = write(
      'admin.kubeconfig',
      `apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: rig
  cluster: { server: "https://127.0.0.1:6443/", certificate-authority: certs/ca.crt }
users:
- name: admin
  user: { client-certificate: certs/client.crt, client-key-data: ${Buffer.from('KEY-PEM').toString('base64')} }
contexts:
- name: other
  context: { cluster: rig, user: admin }
- name: admin
  context: { cluster: rig, user: admin, namespace: team-a }
`,
    );
    const config = loadKubeConfig({ env: { KUBECONFIG: kubeconfig } });
    expect(config.server).toBe('https://127.0.0.1:6443');
    expect(config.ca?.toString()).toBe('CA-PEM');
    expect(config.clientCert?.toString()).toBe('CLIENT-PEM');
    expect(config.clientKey?.toString()).toBe('KEY-PEM');
    expect(config.namespace).toBe('team-a');
    expect(config.insecureSkipTlsVerify).toBe(false);
  });

  it('merges several files: the first file that sets current-context or defines a name wins', () => {
    const a = write(
      'a.kubeconfig',
      'current-context: ctx\ncontexts:\n- name: ctx\n  context: { cluster: c, user: u }\n',
    );
    const b = write(
      'b.kubeconfig',
      'current-context: ignored\nclusters:\n- name: c\n  cluster: { server: "https://10.0.0.1" }\nusers:\n- name: u\n  user: { tokenFile: tok }\n',
    );
    const config = loadKubeConfig({
      env: { KUBECONFIG: [path.join(dir, 'missing'), a, b].join(path.delimiter) },
    });
    expect(config.server).toBe('https://10.0.0.1');
    expect(config.tokenFile).toBe(path.join(dir, 'tok'));
    expect(config.namespace).toBe('default');
  });

  it('takes another context when asked (kubectl --context), and an exec user as a plugin to run', () => {
    const kubeconfig = write(
      'aks.kubeconfig',
      `current-context: local
clusters:
- name: aks
  cluster: { server: "https://aks.example:443" }
users:
- name: aad
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --server-id, 6dae42f8]
      env: [{ name: AAD_LOGIN_METHOD, value: azurecli }]
      installHint: install kubelogin
contexts:
- name: local
  context: { cluster: aks }
- name: aks-aad
  context: { cluster: aks, user: aad, namespace: team-b }
`,
    );
    expect(loadKubeConfigFile(kubeconfig).exec).toBeUndefined();
    const config = loadKubeConfigFile(kubeconfig, { context: 'aks-aad' });
    expect(config.namespace).toBe('team-b');
    expect(config.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'kubelogin',
      args: ['get-token', '--server-id', '6dae42f8'],
      env: [{ name: 'AAD_LOGIN_METHOD', value: 'azurecli' }],
      installHint: 'install kubelogin',
      dir,
    });
    expect(() => loadKubeConfigFile(kubeconfig, { context: 'nope' })).toThrow(
      /current-context "nope" not found/,
    );
  });

  it('names the problem and the fix', () => {
    expect(() => loadKubeConfig({ env: { KUBECONFIG: path.join(dir, 'nope') } })).toThrow(
      /names no readable kubeconfig file.*check the path/,
    );
    const noCurrent = write(
      'two.kubeconfig',
      'clusters:\n- name: c\n  cluster: { server: "https://x" }\ncontexts:\n- name: a\n  context: { cluster: c }\n- name: b\n  context: { cluster: c }\n',
    );
    expect(() => loadKubeConfig({ env: { KUBECONFIG: noCurrent } })).toThrow(
      /current-context "" not found.*set current-context/,
    );
    const badUser = write(
      'user.kubeconfig',
      'current-context: a\nclusters:\n- name: c\n  cluster: { server: "https://x" }\ncontexts:\n- name: a\n  context: { cluster: c, user: ghost }\n',
    );
    expect(() => loadKubeConfig({ env: { KUBECONFIG: badUser } })).toThrow(
      'context a names user ghost, which is not defined',
    );
    const badServer = write(
      'server.kubeconfig',
      'current-context: a\nclusters:\n- name: c\n  cluster: { server: "127.0.0.1:6443" }\ncontexts:\n- name: a\n  context: { cluster: c }\n',
    );
    expect(() => loadKubeConfig({ env: { KUBECONFIG: badServer } })).toThrow(
      /has server "127.0.0.1:6443"; expected an https:\/\/ URL/,
    );
  });
});

describe('loadInClusterConfig', () => {
  it('uses KUBERNETES_SERVICE_HOST/PORT, the token file (re-read, not copied), the CA and the namespace file', () => {
    const sa = path.join(dir, 'sa');
    write('sa/token', 'tkn');
    write('sa/ca.crt', 'CA');
    write('sa/namespace', 'kube-system\n');
    const config = loadInClusterConfig(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      sa,
    );
    expect(config).toMatchObject({
      server: 'https://[fd00::1]:443',
      tokenFile: path.join(sa, 'token'),
      namespace: 'kube-system',
    });
    expect(config.token).toBeUndefined();
    expect(config.ca?.toString()).toBe('CA');
  });

  it('says to mount the service-account token when it is missing', () => {
    expect(() =>
      loadInClusterConfig(
        { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
        path.join(dir, 'absent'),
      ),
    ).toThrow(
      /token file .* is missing; mount the service account token \(automountServiceAccountToken: true\)/,
    );
  });
});
