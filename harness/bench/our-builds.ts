// Our runtime compiled for a bench, as the image compiles it (runtime/ and the lib/core files it imports,
// the .proto files beside the build): from the working tree, and optionally from an earlier commit, so one
// bench run can measure before, after and upstream side by side on the same machine under the same load.
// Builds live in ${XDG_CACHE_HOME:-~/.cache}/aks-secrets-store/bench-builds/; a commit's build is kept
// (it never changes), the working tree's is rebuilt each run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shippedNode } from './shipped-runtime';

const REPO = path.resolve(__dirname, '..', '..');

/** One build of ours under a label ('ours', 'ours@03e4b1f'). */
export interface OurBuild {
  readonly label: string;
  /** build/runtime/cli.js of that build. */
  readonly cli: string;
  /** The commit it was built from, or 'working tree'. */
  readonly source: string;
}

function buildsDir(): string {
  return path.join(
    process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
    'aks-secrets-store',
    'bench-builds',
  );
}

/** Compiles `srcRoot`'s runtime/ into `<dir>/build` with the repository's compiler and types. */
function compile(srcRoot: string, dir: string): string {
  const tsconfig = path.join(dir, 'tsconfig.json');
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(srcRoot, 'tsconfig.json'),
      compilerOptions: {
        outDir: path.join(dir, 'build'),
        rootDir: srcRoot,
        noEmit: false,
        declaration: false,
        sourceMap: false,
        types: ['node'],
        typeRoots: [path.join(REPO, 'node_modules', '@types')],
      },
      include: [path.join(srcRoot, 'runtime', '**', '*.ts')],
    }),
  );
  execFileSync(
    process.execPath,
    [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig],
    { stdio: 'inherit' },
  );
  // The runtime's native addon (memory release, the driver's mounts), as in the image; older commits have none.
  const nativeBuild = path.join(srcRoot, 'runtime', 'native', 'build.sh');
  if (fs.existsSync(nativeBuild))
    execFileSync('bash', [nativeBuild, path.join(dir, 'build', 'runtime', 'native')], { stdio: 'inherit' });
  fs.cpSync(path.join(srcRoot, 'runtime', 'proto'), path.join(dir, 'build', 'runtime', 'proto'), {
    recursive: true,
  });
  fs.copyFileSync(path.join(srcRoot, 'package.json'), path.join(dir, 'package.json'));
  // The runtime's dependencies resolve from the repository's node_modules (same lockfile versions).
  const modules = path.join(dir, 'node_modules');
  if (!fs.existsSync(modules)) fs.symlinkSync(path.join(REPO, 'node_modules'), modules, 'dir');
  // The image's one-file bundles (npm run build's last step); older commits have none.
  const bundles = path.join(dir, 'build', 'runtime', 'image', 'build-bundles.js');
  if (fs.existsSync(bundles)) execFileSync(process.execPath, [bundles], { stdio: 'inherit' });
  writeCompileCache(dir);
  return path.join(dir, 'build', 'runtime', 'cli.js');
}

/**
 * The image's compile cache (runtime/Dockerfile's build-compile-cache step), on the Node our processes run
 * on, so a bench starts them as the image does; older commits have no such step, nor a bench without Node 24.
 */
function writeCompileCache(dir: string): void {
  const step = path.join(dir, 'build', 'runtime', 'image', 'build-compile-cache.js');
  const node = shippedNode();
  if (!fs.existsSync(step) || node.fallbackReason) return;
  execFileSync(node.binary, [step], { stdio: 'inherit' });
}

/** The working tree's runtime, compiled afresh; one dir per worktree, so two engineers' benches never remove each other's build. */
export function buildWorkingTree(): OurBuild {
  const worktree = createHash('sha256').update(REPO).digest('hex').slice(0, 8);
  const dir = path.join(buildsDir(), `working-tree-${worktree}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return { label: 'ours', cli: compile(REPO, dir), source: 'working tree' };
}

/** The runtime of `commit` (any rev git names), compiled once and kept. */
export function buildCommit(commit: string): OurBuild {
  const sha = execFileSync('git', ['-C', REPO, 'rev-parse', '--verify', `${commit}^{commit}`], {
    encoding: 'utf8',
  }).trim();
  const short = sha.slice(0, 7);
  const dir = path.join(buildsDir(), sha);
  const cli = path.join(dir, 'build', 'runtime', 'cli.js');
  if (!fs.existsSync(cli)) {
    fs.rmSync(dir, { recursive: true, force: true });
    const src = path.join(dir, 'src');
    fs.mkdirSync(src, { recursive: true });
    // runtime/ and lib/core now make more than execFileSync's 1 MiB default buffer (ENOBUFS).
    const archive = execFileSync(
      'git',
      ['-C', REPO, 'archive', '--format=tar', sha, 'runtime', 'lib/core', 'package.json', 'tsconfig.json'],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    execFileSync('tar', ['-x', '-C', src], { input: archive });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(src, 'node_modules'), 'dir');
    compile(src, dir);
  }
  return { label: `ours@${short}`, cli, source: sha };
}

/** `--baseline=<commit>` from argv (any number), each built. */
export function baselineBuilds(argv: readonly string[]): OurBuild[] {
  return argv
    .map((arg) => /^--baseline=(.+)$/.exec(arg)?.[1])
    .filter((rev): rev is string => rev !== undefined)
    .map(buildCommit);
}
