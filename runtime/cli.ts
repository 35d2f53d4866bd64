#!/usr/bin/env node
// One bin, two processes (the image has the same two entrypoints): `aks-secrets-store driver ...`
// and `aks-secrets-store provider ...`, and the troubleshooting command `aks-secrets-store doctor`.
// Each subcommand is loaded lazily so the provider never pays for the driver's modules and the other
// way round, and the doctor (lib/core and the Kubernetes client only) runs from the npm package.
const [command, ...args] = process.argv.slice(2);

function usage(): never {
  process.stderr.write('usage: aks-secrets-store <driver|provider|doctor> [flags]\n');
  process.exit(2);
}

async function run(): Promise<void> {
  switch (command) {
    case 'driver':
      return (await import('./driver/main')).main(args);
    case 'provider':
      return (await import('./provider/main')).main(args);
    case 'doctor':
      return (await import('./doctor/main')).main(args);
    default:
      usage();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'fatal', error: String(err) })}\n`);
  process.exit(1);
});
