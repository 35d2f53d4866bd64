import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// This package's version, read once from its own package.json: the default runtime image tag (install
// model), the provider's Version RPC and the driver's GetPluginInfo all report the same value. Found by
// walking up from this file, so it works from the sources, from build/ and from the image (/app).

let cachedVersion: string | undefined;

export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'aks-secrets-store' && pkg.version) return (cachedVersion = pkg.version);
    }
    if (dirname(dir) === dir)
      throw new Error('aks-secrets-store: cannot find its own package.json above ' + __dirname);
  }
}
