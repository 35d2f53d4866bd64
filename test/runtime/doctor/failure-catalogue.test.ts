// The catalogue: every example text is diagnosed by its own entry (so the order of the table is right),
// and every error text our runtime can put into a FailedMount has an entry. The runtime's texts are read
// from its sources with the TypeScript parser, so a new message fails this test until it is catalogued.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { API_UNAVAILABLE_HINT } from '../../../runtime/driver/csi/publish-error';
import {
  diagnoseMessage,
  FAILURE_CATALOGUE,
  fillPlaceholders,
  MAX_MESSAGE_CHARS,
} from '../../../runtime/doctor/failure-catalogue';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('the failure catalogue', () => {
  test('ids are unique and every entry has an example, a cause and a fix', () => {
    const ids = FAILURE_CATALOGUE.map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const entry of FAILURE_CATALOGUE) {
      expect({ id: entry.id, examples: entry.examples.length > 0 }).toEqual({ id: entry.id, examples: true });
      expect(entry.cause.length).toBeGreaterThan(20);
      expect(entry.fix.length).toBeGreaterThan(20);
    }
  });

  test.each(FAILURE_CATALOGUE.flatMap((entry) => entry.examples.map((example) => [entry.id, example])))(
    '%s diagnoses its example %j',
    (id, example) => {
      expect(diagnoseMessage(example)?.entry.id).toBe(id);
      // Nested as kubelet and the driver write it, the same entry still wins.
      const nested =
        'MountVolume.SetUp failed for volume "secrets-store" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod team-a/web-0, ' +
        `err: rpc error: code = Unknown desc = failed to mount objects, error: ${example}`;
      const outer = ['driver.mount-failed', 'provider.mount-failed'];
      if (!outer.includes(id)) expect(diagnoseMessage(nested)?.entry.id).toBe(id);
    },
  );

  test('named groups and context fill the placeholders; a missing one reads <name>', () => {
    const diagnosis = diagnoseMessage(
      'failed to get secretproviderclass team-a/azure-sync, error: secretproviderclasses.secrets-store.csi.x-k8s.io "azure-sync" not found',
    )!;
    expect(diagnosis.values).toEqual({ spcNamespace: 'team-a', spcName: 'azure-sync' });
    expect(fillPlaceholders(diagnosis.entry.fix, diagnosis.values)).toContain('in namespace team-a');
    expect(fillPlaceholders('{vault} on {node}', { vault: 'kv1' })).toBe('kv1 on <node>');
  });

  test('a hostile message is matched in bounded time and only up to the cut', () => {
    const hostile = `${'a'.repeat(MAX_MESSAGE_CHARS)} AADSTS70021`;
    expect(diagnoseMessage(hostile)).toBeUndefined();
    // Many near-matches of every alternation: linear patterns finish at once (no timing assertion: the
    // test would time out if a pattern backtracked exponentially).
    const nearMisses = 'failed to get secretproviderclass a/b, error: '.repeat(150);
    expect(diagnoseMessage(nearMisses)?.entry.id).toBe('driver.spc-read');
  });

  test('an unknown text matches nothing', () => {
    expect(diagnoseMessage('everything is fine')).toBeUndefined();
  });
});

// ---- the runtime's own texts ----

/** Sources whose texts never reach a pod's events (process start-up, internal plumbing), with why. */
const NOT_MOUNT_TEXTS: Record<string, string> = {
  'runtime/driver/flags.ts': 'command-line flags: the process exits at start-up',
  'runtime/driver/main.ts': 'process start-up',
  'runtime/provider/flags.ts': 'command-line flags: the process exits at start-up',
  'runtime/provider/main.ts': 'process start-up',
  'runtime/provider/metrics.ts': 'metric registration',
  'runtime/provider/keyvault/token-bucket.ts': 'constructor argument checks and cancellations',
  'runtime/provider/mount-admission.ts':
    'constructor argument checks (main checks the flags first); a waiting Mount leaves with an AdmissionWaitEnded that mount-admission-failure.ts words for the driver',
  'runtime/provider/keyvault/retry.ts': 'cancellation of a wait (the Mount then fails as cancelled)',
  'runtime/provider/single-flight.ts': 'cancellation of a shared call',
  'runtime/provider/last-known-content.ts':
    'the abort reason of the live fetch once the Mount is answered with last known content: no Mount fails with it',
  'runtime/driver/cluster/kube/watch-cache.ts': 'programming error (started twice)',
  'runtime/driver/cluster/kube/kube-config.ts': 'process start-up (kubeconfig)',
  'runtime/driver/cluster/kube/kube-resources.ts': 'programming errors (empty name, missing namespace)',
  'runtime/driver/cluster/kube/kube-client.ts':
    'transport errors; they reach events inside the driver texts that wrap them (spc-not-found, pod-status)',
  'runtime/driver/volume/command-shell.ts':
    'the mount(8)/umount(8) command failure; it reaches events as "failed to mount tmpfs ..."',
  'runtime/driver/volume/mounter.ts':
    'the mount(8) failure; it reaches events as "failed to mount tmpfs ..."',
  'runtime/provider/content/pkcs12.ts': 'inner PKCS#12 parser texts, wrapped as "pkcs12: ..."',
  'runtime/driver/cluster/pod-status-journal.ts':
    'the SPCPS journal read at process start-up, before CSI is served: logged, never a mount text',
};

/** Texts that only wrap an inner one (matched by a generic entry on purpose). */
const WRAPPERS = [
  'failed to mount secrets store objects for pod X/X',
  'failed to check the target path of pod X/X',
  'failed to mount objects, error: X',
  'failed to get objectType:X, objectName:X, objectVersion:X: X',
  'failed to build auth config for mode X: X',
  'failed to get keyvault client: X',
  'X, err: X',
  'X (X)', // PublishError.fromCause: `<message> (<API_UNAVAILABLE_HINT>)`, checked below
];

/** Texts that only ever appear inside another text of the runtime, with that text around them. */
const INNER_TEXTS: Record<string, string> = {
  'secretproviderclasses.secrets-store.csi.x-k8s.io "X" not found':
    'failed to get secretproviderclass X/X, error: {}',
  'not a file': 'file matching objectName X not found in the pod', // caught and replaced by this text
  'open X: X': 'cloudName X is not valid, error: {}',
  'read X: is a directory': 'cloudName X is not valid, error: {}',
};

const CONSTRUCTORS = /Error$|^MountFailure$/;
const PUBLISH_ERROR_CALLS = new Set(['unknown', 'internal', 'invalidArgument', 'wrap']);

/** An interpolated value as it reads in the text: JSON.stringify quotes it. */
function placeholderOf(node: ts.Expression): string {
  const quoted =
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    node.expression.getText() === 'JSON.stringify';
  return quoted ? '"X"' : 'X';
}

/** A sample of the text an expression builds: literal parts kept, interpolations as X (or "X"). */
function sampleOf(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node))
    return (
      node.head.text +
      node.templateSpans.map((span) => `${placeholderOf(span.expression)}${span.literal.text}`).join('')
    );
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = sampleOf(node.left);
    const right = sampleOf(node.right);
    if (left === undefined && right === undefined) return undefined;
    return `${left ?? 'X'}${right ?? 'X'}`;
  }
  if (ts.isParenthesizedExpression(node)) return sampleOf(node.expression);
  return undefined;
}

function runtimeTexts(): { file: string; line: number; text: string }[] {
  const found: { file: string; line: number; text: string }[] = [];
  const walkDir = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walkDir(full) : entry.name.endsWith('.ts') ? [full] : [];
    });
  const files = ['runtime/driver', 'runtime/provider'].flatMap((dir) => walkDir(path.join(REPO, dir)));
  for (const file of files) {
    const relative = path.relative(REPO, file).split(path.sep).join('/');
    if (NOT_MOUNT_TEXTS[relative]) continue;
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      let args: readonly ts.Expression[] | undefined;
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        CONSTRUCTORS.test(node.expression.text)
      )
        args = node.arguments;
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ts.isIdentifier(node.expression.expression) &&
        node.expression.expression.text === 'PublishError' &&
        PUBLISH_ERROR_CALLS.has(node.expression.name.text)
      )
        args = node.arguments;
      // The message is the first argument (PayloadPathError: the second, its reason).
      const isPayloadPath = ts.isNewExpression(node) && node.expression.getText() === 'PayloadPathError';
      const message = args?.[isPayloadPath ? 1 : 0];
      const text = message && sampleOf(message);
      if (message && text !== undefined) {
        const line = source.getLineAndCharacterOfPosition(message.getStart()).line + 1;
        found.push({ file: relative, line, text });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe("our runtime's error texts", () => {
  const texts = runtimeTexts();

  test('the scan finds the texts (a parser change would otherwise pass vacuously)', () => {
    expect(texts.length).toBeGreaterThan(80);
    expect(texts.map((t) => t.text)).toEqual(
      expect.arrayContaining(['missing object versions', 'Readonly is not true in request']),
    );
  });

  test("the driver's API-outage hint, appended to other texts, has its own entry", () => {
    expect(diagnoseMessage(`failed to get pod a/b, err: x (${API_UNAVAILABLE_HINT})`)?.entry.id).toBe(
      'driver.apiserver-unavailable',
    );
  });

  test('every text our driver and provider can report has a catalogue entry', () => {
    const generic = new Set(['driver.mount-failed', 'provider.mount-failed']);
    const missing = texts
      .filter(({ text }) => {
        if (WRAPPERS.includes(text)) return false;
        const around = INNER_TEXTS[text];
        const id = diagnoseMessage(around ? around.replace('{}', text) : text)?.entry.id;
        return id === undefined || generic.has(id);
      })
      .map(({ file, line, text }) => `${file}:${line}: ${JSON.stringify(text)}`);
    expect(missing).toEqual([]);
  });
});
