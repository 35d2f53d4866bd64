import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, statSync } from 'fs';
import { homedir } from 'os';
import { join } from 'path';

// Builds and runs the Go oracle in this directory: the real upstream Azure provider v1.8.2, from the
// Go module proxy, into ${XDG_CACHE_HOME:-~/.cache}/aks-secrets-store/go-oracle (never the repo).

const SOURCE = __dirname;
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'aks-secrets-store', 'go-oracle');
const BINARY = join(CACHE, 'objects-oracle');

export type OracleResult = { error?: string; objects?: Record<string, unknown>[] };

/** Builds the oracle when missing or stale; returns why it cannot, or undefined when ready. */
export function buildOracle(): string | undefined {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0)
    return 'Go is not installed (needed to build the upstream provider oracle; install Go >= 1.26)';
  const newest = Math.max(...['main.go', 'go.mod', 'go.sum'].map((f) => statSync(join(SOURCE, f)).mtimeMs));
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= newest) return undefined;
  mkdirSync(CACHE, { recursive: true });
  const build = spawnSync('go', ['build', '-trimpath', '-o', BINARY, '.'], {
    cwd: SOURCE,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
  });
  return build.status === 0 ? undefined : `building the Go oracle failed: ${build.stderr.slice(-2000)}`;
}

/** Runs the oracle on `inputs` (mode "objects": strings; mode "mount": {attributes, secrets}). */
export function runOracle(mode: 'objects' | 'mount', inputs: unknown[]): OracleResult[] {
  const args = mode === 'mount' ? ['mount'] : [];
  const run = spawnSync(BINARY, args, {
    input: JSON.stringify(inputs),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0) throw new Error(`oracle failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as OracleResult[];
}

/** In CI a missing oracle fails the suite; elsewhere the caller returns early with a message. */
export function requireOracleInCi(unavailable: string | undefined): void {
  if (unavailable && process.env.CI === 'true')
    throw new Error(`cannot run the upstream oracle in CI: ${unavailable}`);
}
