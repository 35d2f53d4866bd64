// The node flags on our runtime containers' command lines are ones this Node takes and they do what
// RUNTIME_NODE_FLAGS says: `--no-icu-timezone-data` makes V8 take the time zone from libc, not ICU
// (whose zone tables would otherwise be paged in on the first Date formatting), and changes nothing
// of the UTC text our logs and Events write. A misspelt V8 flag would stop Node ("bad option").
import { execFileSync } from 'child_process';
import { renderSelfHostedInstall } from '../../../lib/core/install';
import { RUNTIME_CLI_PATH } from '../../../lib/core/install/runtime-command';
import { container, find } from './install-test-helpers';

function nodeFlagsOf(daemonSet: string, name: string): string[] {
  const command = container(find(renderSelfHostedInstall(), 'DaemonSet', daemonSet), name).command as
    string[] | undefined;
  if (!command) throw new Error(`${name} has no command`);
  expect(command[0]).toBe('node');
  expect(command[command.length - 1]).toBe(RUNTIME_CLI_PATH);
  return command.slice(1, -1);
}

const DATES = `process.stdout.write(JSON.stringify([new Date(0).toString(), new Date(Date.UTC(2026, 11, 1, 22, 10, 5, 7)).toISOString(), new Date(0).toUTCString(), new Date(0).getTimezoneOffset()]))`;

function datesUnder(flags: string[]): string[] {
  return JSON.parse(
    execFileSync(process.execPath, [...flags, '-e', DATES], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    }),
  ) as string[];
}

describe.each([
  ['csi-secrets-store', 'secrets-store'],
  ['csi-secrets-store-provider-azure', 'provider-azure-installer'],
])('node flags of %s / %s', (daemonSet, name) => {
  it('take the time zone from libc instead of ICU, and leave UTC text as it was', () => {
    const flags = nodeFlagsOf(daemonSet, name);
    expect(flags).toContain('--no-icu-timezone-data');
    const withIcu = datesUnder([]);
    const withFlags = datesUnder(flags);
    // ICU names the zone in full; libc's tzname is the abbreviation.
    expect(withIcu[0]).toBe('Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)');
    expect(withFlags[0]).toBe('Thu Jan 01 1970 00:00:00 GMT+0000 (UTC)');
    expect(withFlags.slice(1)).toEqual(['2026-12-01T22:10:05.007Z', 'Thu, 01 Jan 1970 00:00:00 GMT', 0]);
    expect(withFlags.slice(1)).toEqual(withIcu.slice(1));
  });
});
