// The glibc tunables the install puts on our runtime containers are ones glibc knows and takes: glibc
// ignores a misspelt tunable or a value out of range without a word, so the dynamic loader of this
// machine (Debian 12's glibc 2.36, as the runtime image's) lists what it would run with.
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import { renderSelfHostedInstall } from '../../../lib/core/install';
import { cannotRunHere } from '../../../harness/rig/rig-env';
import { container, find } from './install-test-helpers';

const LOADER = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'].find((path) => existsSync(path));

function tunablesOf(daemonSet: string, name: string): string {
  const env = container(find(renderSelfHostedInstall(), 'DaemonSet', daemonSet), name).env as Array<{
    name: string;
    value?: string;
  }>;
  const value = env.find((variable) => variable.name === 'GLIBC_TUNABLES')?.value;
  if (value === undefined) throw new Error(`${name} has no GLIBC_TUNABLES`);
  return value;
}

describe.each([
  ['csi-secrets-store', 'secrets-store'],
  ['csi-secrets-store-provider-azure', 'provider-azure-installer'],
])('GLIBC_TUNABLES of %s / %s', (daemonSet, name) => {
  it('names tunables glibc takes, at the values given', () => {
    if (!LOADER && cannotRunHere('no glibc dynamic loader to list its tunables')) return;
    const tunables = tunablesOf(daemonSet, name);
    const listed = execFileSync(LOADER!, ['--list-tunables'], {
      encoding: 'utf8',
      env: { GLIBC_TUNABLES: tunables },
    });
    const pairs = tunables.split(':').map((pair) => pair.split('='));
    expect(pairs.length).toBeGreaterThan(0);
    for (const [tunable, value] of pairs)
      expect(listed).toMatch(
        new RegExp(`^${tunable.replace(/\./g, '\\.')}: 0x${Number(value).toString(16)} `, 'm'),
      );
  });
});
