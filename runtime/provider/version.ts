// What Version returns: the API version, our runtime name and the package version.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RUNTIME_NAME = 'aks-secrets-store-provider';
export const API_VERSION = 'v1alpha1';

let cached: string | undefined;

/** The package version from package.json (sources: ../../; build: ../../../). */
export function runtimeVersion(): string {
  if (cached !== undefined) return cached;
  for (const candidate of [
    path.resolve(__dirname, '..', '..', 'package.json'),
    path.resolve(__dirname, '..', '..', '..', 'package.json'),
  ]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'aks-secrets-store' && pkg.version) return (cached = pkg.version);
    } catch {
      // try the next location
    }
  }
  return (cached = '0.0.0-unknown');
}
