// What the doctor prints: cluster text (event messages anyone may write) cannot drive the terminal or
// leak a token, and the text report reads link by link with the first problem's cause, fix and evidence.
import { DoctorReport, safeMessage, safeText } from '../../../runtime/doctor/findings';
import { renderText } from '../../../runtime/doctor/render-text';

test('control characters and bidirectional overrides are replaced, CRLF kept as a line break, length bounded', () => {
  expect(safeText('ok\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c done\r\nnext\rline\tx')).toBe(
    'ok?[2J?]0;pwned? ?evil? done\nnext\nline\tx',
  );
  const long = safeText('a'.repeat(3000));
  expect(long).toBe(`${'a'.repeat(2000)}… (1000 more characters)`);
});

test('a bearer token in a message is removed', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl';
  expect(
    safeMessage(`failed to unmarshal service account tokens, error: invalid character near "${jwt}"`),
  ).toBe('failed to unmarshal service account tokens, error: invalid character near "<token removed>"');
});

const report: DoctorReport = {
  target: {
    namespace: 'team-a',
    requested: 'pod/web-0',
    pods: ['pod/web-0'],
    secretProviderClasses: ['app-kv'],
    nodes: ['aks-np1-0'],
    install: 'AKS add-on azure-keyvault-secrets-provider',
    server: 'https://aks.example:443',
    kubeconfig: '/home/u/.kube/config',
  },
  result: 'problem',
  exitCode: 1,
  findings: [
    {
      link: 'install',
      check: 'install.csidriver',
      status: 'ok',
      summary: 'CSIDriver secrets-store.csi.k8s.io: podInfoOnMount, Ephemeral',
    },
    {
      link: 'install',
      check: 'install.provider',
      status: 'problem',
      summary: 'provider kube-system/aks-secrets-store-provider-azure does not run on node aks-np1-0',
      cause:
        'its nodeSelector kubernetes.io/os=linux does not match node aks-np1-0 (kubernetes.io/os=windows)',
      fix: 'run the pod on a Linux node pool',
      evidence: 'kubectl get node aks-np1-0 --show-labels',
      message:
        'MountVolume.SetUp failed for volume "v" : rpc error: code = Unknown desc = provider not found:\x1b[0m provider "azure"',
    },
  ],
  notChecked: ['secret-provider-class', 'pod', 'metrics'],
  mounted: [],
  apiRequests: 6,
};

test('the text report: target, links, the problem with cause/fix/evidence, what was not checked, the exit code', () => {
  const text = renderText({ ...report, firstProblem: report.findings[1] });
  expect(text).toContain('aks-secrets-store doctor: pod/web-0 in namespace team-a\n');
  expect(text).toContain('  install: AKS add-on azure-keyvault-secrets-provider\n');
  expect(text).toContain('  [ok]      CSIDriver secrets-store.csi.k8s.io: podInfoOnMount, Ephemeral\n');
  expect(text).toContain(
    '  [PROBLEM] provider kube-system/aks-secrets-store-provider-azure does not run on node aks-np1-0\n',
  );
  expect(text).toContain('      cause:    its nodeSelector kubernetes.io/os=linux');
  expect(text).toContain('      fix:      run the pod on a Linux node pool\n');
  expect(text).toContain('      evidence: kubectl get node aks-np1-0 --show-labels\n');
  expect(text).toContain('provider not found:?[0m provider "azure"');
  expect(text).not.toContain('\x1b');
  expect(text).toContain('not checked (fix the problem above first): SecretProviderClass');
  expect(text).toContain(
    'result: problem found; exit 1: provider kube-system/aks-secrets-store-provider-azure does not run on node aks-np1-0\n',
  );
  expect(text).toContain('(6 read-only API requests)');
});
