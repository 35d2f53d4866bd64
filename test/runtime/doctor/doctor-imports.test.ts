// The doctor runs from the npm package, whose dependencies are yaml only (the runtime's gRPC and Azure
// SDK set is the image's): everything runtime/doctor/main.ts reaches must be lib/core, the driver's
// Kubernetes client, the doctor itself, Node's built-ins or yaml. Read from the sources' import graph.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '..', '..', '..');
const ALLOWED_DIRS = ['runtime/doctor/', 'runtime/driver/cluster/kube/', 'lib/core/'];
const ALLOWED_PACKAGES = new Set(['yaml', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Type-only imports are erased by the compiler: `loaded` leaves them out (what node will require). */
function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  return ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly;
}

function importsOf(file: string, loaded = false): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      !(loaded && isTypeOnly(node))
    )
      found.push(node.moduleSpecifier.text);
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      ts.isStringLiteral(node.arguments[0])
    )
      found.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolveTs(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')])
    if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${from} imports ${specifier}, which resolves to no .ts file`);
}

/** The files (relative to the repository) and the packages a source file reaches through its imports. */
function closureOf(entry: string, loaded = false): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [path.join(REPO, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(file, loaded)) {
      if (specifier.startsWith('.')) queue.push(resolveTs(file, specifier));
      else
        packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  }
  return { files: [...seen].map((f) => path.relative(REPO, f).split(path.sep).join('/')), packages };
}

test('runtime/doctor/main.ts reaches only lib/core, the Kubernetes client, Node built-ins and yaml', () => {
  const { files, packages } = closureOf('runtime/doctor/main.ts');
  expect(files.filter((f) => !ALLOWED_DIRS.some((dir) => f.startsWith(dir)))).toEqual([]);
  expect([...packages].filter((p) => !ALLOWED_PACKAGES.has(p))).toEqual([]);
  // The walk really went through the graph.
  expect(files).toEqual(
    expect.arrayContaining([
      'runtime/driver/cluster/kube/kube-client.ts',
      'lib/core/secret-provider-class.ts',
    ]),
  );
});

test('the bin loads the doctor lazily, as it loads the driver and the provider', () => {
  const cli = fs.readFileSync(path.join(REPO, 'runtime', 'cli.ts'), 'utf8');
  expect(importsOf(path.join(REPO, 'runtime', 'cli.ts'))).toEqual([
    './image/compile-cache',
    './image/startup-memory-release',
    './image/image-bundle',
    './driver/main',
    './provider/main',
    './doctor/main',
  ]);
  expect(cli).toMatch(/case 'doctor':\s+return \(await import\('\.\/doctor\/main'\)\)\.main\(args\);/);
});

// The npm package's `bin` runs the doctor from a construct user's install: package.json `files` must
// ship every compiled module the doctor reaches and nothing else of the runtime (the driver and the
// provider are the image's, with dependencies the package does not have).
test("package.json's bin is the CLI and `files` ships exactly the runtime modules the doctor reaches", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    files: string[];
    dependencies: Record<string, string>;
  };
  expect(pkg.bin).toEqual({ 'aks-secrets-store': 'build/runtime/cli.js' });
  const shipped = closureOf('runtime/doctor/main.ts', true)
    .files.filter((f) => f.startsWith('runtime/'))
    .map((f) => `build/${f.replace(/\.ts$/, '.js')}`);
  const runtimeEntries = pkg.files.filter((entry) => entry.startsWith('build/runtime/'));
  const covered = (file: string) =>
    runtimeEntries.some((entry) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry));
  expect(['build/runtime/cli.js', ...shipped].filter((file) => !covered(file))).toEqual([]);
  // Nothing listed that the doctor does not reach: whole directories only for the doctor itself.
  expect(
    runtimeEntries.filter(
      (entry) =>
        entry !== 'build/runtime/cli.js' && entry !== 'build/runtime/doctor/' && !shipped.includes(entry),
    ),
  ).toEqual([]);
  expect(Object.keys(pkg.dependencies)).toEqual(['yaml']);
});
