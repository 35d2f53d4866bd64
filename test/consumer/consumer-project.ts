import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

// A fresh project of a package user, in a temporary directory: its package.json and tsconfig as the
// framework's generator writes them, the packed tarball installed with the README's install line, and
// the commands a user runs. npm answers from the machine's cache when it can (--prefer-offline) and
// reaches nothing but the package registry.

export const REPO_ROOT = path.resolve(__dirname, '../..');

/** The environment of a user's shell: none of the npm_* variables `npm test` sets for its own scripts. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !key.startsWith('AKS_SS_')) env[key] = value;
  }
  return {
    ...env,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** Runs a command; a failure throws with the command, the directory and the end of its output. */
export function run(cwd: string, command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, {
      cwd,
      env: userEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    const lines = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n');
    // The first lines name the error, the last ones where it ended; the middle is mostly stack frames.
    const output = lines.length <= 80 ? lines : [...lines.slice(0, 40), '[...]', ...lines.slice(-40)];
    throw new Error(
      `\`${command} ${args.join(' ')}\` failed in ${cwd} (exit ${e.status}):\n${output.join('\n')}`,
    );
  }
}

/** Runs a command that may fail on purpose: its exit code and output, with `env` over the user's. */
export function runForExit(
  cwd: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...userEnv(), ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `npm pack` in a copy of the repository as a fresh clone has it (tracked and new files, no build/, no
 * dist/), with the repository's node_modules: the package's prepack must build what it ships.
 * Returns the tarball's path and the files in it.
 */
export function packFromCleanCopy(workDir: string): { tarball: string; files: string[] } {
  const copy = path.join(workDir, 'clean-checkout');
  const listed = run(REPO_ROOT, 'git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .split('\0')
    .filter((file) => file !== '' && fs.existsSync(path.join(REPO_ROOT, file)));
  for (const file of listed) {
    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(copy, file));
  }
  fs.symlinkSync(fs.realpathSync(path.join(REPO_ROOT, 'node_modules')), path.join(copy, 'node_modules'));
  run(copy, 'npm', ['pack', '--pack-destination', workDir]);
  const { name, version } = JSON.parse(fs.readFileSync(path.join(copy, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const tarball = path.join(workDir, `${name}-${version}.tgz`);
  const files = run(workDir, 'tar', ['-tzf', tarball])
    .split('\n')
    .filter((entry) => entry !== '' && !entry.endsWith('/'))
    .map((entry) => entry.replace(/^package\//, ''));
  return { tarball, files };
}

export interface ProjectFiles {
  readonly [relativePath: string]: string | object;
}

/** Writes a project's files; objects are written as JSON. */
export function writeProject(dir: string, files: ProjectFiles): void {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content, null, 2) + '\n');
  }
}

/**
 * The README's install line in `dir`, with the package itself taken from `tarball`, then the project's
 * own dev tools. Install scripts stay off: the package has none, and a framework's plugin download
 * (@pulumi/kubernetes) would reach beyond the registry.
 */
export function installWithReadmeLine(
  dir: string,
  readmePackages: readonly string[],
  tarball: string,
  devTools: readonly string[],
): void {
  if (!readmePackages.includes('aks-secrets-store')) {
    throw new Error(
      `the README's install line ${JSON.stringify(readmePackages)} does not install aks-secrets-store`,
    );
  }
  const packages = readmePackages.map((name) => (name === 'aks-secrets-store' ? tarball : name));
  run(dir, 'npm', ['install', '--ignore-scripts', ...packages]);
  run(dir, 'npm', ['install', '--ignore-scripts', '--save-dev', ...devTools]);
}

/** Which of `names` are installed in the project's node_modules. */
export function installedOf(dir: string, names: readonly string[]): string[] {
  return names.filter((name) => fs.existsSync(path.join(dir, 'node_modules', name, 'package.json')));
}

/** The project's own TypeScript compiler (the version it installed), on one of its tsconfig files. */
export function tsc(dir: string, tsconfig = 'tsconfig.json'): void {
  run(dir, process.execPath, [path.join(dir, 'node_modules/typescript/bin/tsc'), '-p', tsconfig]);
}

/** Every file under `dir`, by relative path, with its text. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else out[rel] = fs.readFileSync(path.join(dir, rel), 'utf8');
    }
  };
  walk('');
  return out;
}
