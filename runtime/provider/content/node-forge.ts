// node-forge, loaded on the first certificate that needs it (a PFX to convert, a chain to order): most
// Mounts fetch secrets and keys only, and loading it at start costs every provider pod its 42 modules
// (bench/provider, issue 14).
import type * as Forge from 'node-forge';

export function nodeForge(): typeof Forge {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; `import` would load it at start
  return require('node-forge') as typeof Forge;
}
