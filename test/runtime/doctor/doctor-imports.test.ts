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

function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
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

test('runtime/doctor/main.ts reaches only lib/core, the Kubernetes client, Node built-ins and yaml', () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [path.join(REPO, 'runtime', 'doctor', 'main.ts')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(file)) {
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
  const files = [...seen].map((f) => path.relative(REPO, f).split(path.sep).join('/'));
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
    './driver/main',
    './provider/main',
    './doctor/main',
  ]);
  expect(cli).toMatch(/case 'doctor':\s+return \(await import\('\.\/doctor\/main'\)\)\.main\(args\);/);
});
