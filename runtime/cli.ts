#!/usr/bin/env node
// One bin, two processes (the image has the same two entrypoints): `aks-secrets-store driver ...`
// and `aks-secrets-store provider ...`, and the troubleshooting command `aks-secrets-store doctor`.
// Each subcommand is loaded lazily so the provider never pays for the driver's modules and the other
// way round, and the doctor (lib/core and the Kubernetes client only) runs from the npm package, which
// ships neither the driver and provider modules nor their dependencies (runtime/package.json, the image's).
const [command, ...args] = process.argv.slice(2);

const USAGE = `usage: aks-secrets-store <command> [flags]

commands:
  doctor     find why a pod's Azure Key Vault volume does not mount (read-only; doctor --help)
  driver     the CSI node driver (runs in the image)
  provider   the Azure Key Vault provider (runs in the image)
`;

/** True when `err` says the module itself is absent (not one of its own imports). */
function isMissing(err: unknown, module: string): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'MODULE_NOT_FOUND' && (e.message ?? '').includes(module);
}

async function runImageCommand(name: 'driver' | 'provider'): Promise<void> {
  let entry: { main(args: string[]): Promise<void> };
  try {
    // First, so the subcommand's modules come from the image's compile cache (none outside the image).
    (await import('./image/compile-cache')).enableImageCompileCache();
    // Before the subcommand's modules load, so their heap does not grow on top of Node's start-up pages.
    await (await import('./image/startup-memory-release')).releaseStartupMemory(name, args);
    // The image's one-file bundle of the subcommand's modules when there is one (the provider's).
    const bundle = (await import('./image/image-bundle')).currentBundle(name);
    if (bundle !== undefined) entry = (await import(bundle)) as typeof entry;
    else entry = name === 'driver' ? await import('./driver/main') : await import('./provider/main');
  } catch (err) {
    const image = ['image/compile-cache', 'image/startup-memory-release', 'image/image-bundle'];
    if (!isMissing(err, `${name}/main`) && !image.some((m) => isMissing(err, m))) throw err;
    process.stderr.write(
      `aks-secrets-store ${name}: not in this install; the npm package ships the doctor only, the ${name} runs from the runtime image (see the README's Install section)\n`,
    );
    process.exit(2);
  }
  return entry.main(args);
}

async function run(): Promise<void> {
  switch (command) {
    case 'driver':
    case 'provider':
      return runImageCommand(command);
    case 'doctor':
      return (await import('./doctor/main')).main(args);
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(
        command === undefined
          ? USAGE
          : `aks-secrets-store: unknown command ${JSON.stringify(command)}\n${USAGE}`,
      );
      process.exit(2);
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'fatal', error: String(err) })}\n`);
  process.exit(1);
});
