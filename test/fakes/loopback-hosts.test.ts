// Host-name plumbing of the doubles: the in-process lookup, and the private /etc/hosts of a child
// process (which must leave the machine's /etc/hosts untouched).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canUsePrivilegedLoopback,
  SERVICE_ACCOUNT_CA_PATH,
  randomLoopbackAddress,
  staticLookup,
  withPrivateHosts,
  writeHostsFile,
} from '../../harness/fakes/loopback-hosts';

function lookup(fn: ReturnType<typeof staticLookup>, host: string, all = false): Promise<unknown> {
  return new Promise((resolve, reject) =>
    fn(host, { all }, (err, address) => (err ? reject(err) : resolve(address))),
  );
}

test('staticLookup resolves exact names and *.suffix patterns, and nothing else', async () => {
  const fn = staticLookup({ 'login.fake.test': '127.1.2.3', '*.vault.fake.test': '127.4.5.6' });
  await expect(lookup(fn, 'login.fake.test')).resolves.toBe('127.1.2.3');
  await expect(lookup(fn, 'KV1.Vault.Fake.Test')).resolves.toBe('127.4.5.6');
  await expect(lookup(fn, 'kv1.vault.fake.test', true)).resolves.toEqual([
    { address: '127.4.5.6', family: 4 },
  ]);
  await expect(lookup(fn, 'example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  await expect(lookup(fn, 'vault.fake.test.evil')).rejects.toMatchObject({ code: 'ENOTFOUND' });
});

test('random loopback addresses stay inside 127/8 and outside 127.0/16', () => {
  for (let i = 0; i < 200; i++) {
    const parts = randomLoopbackAddress().split('.').map(Number);
    expect(parts[0]).toBe(127);
    expect(parts[1]).toBeGreaterThanOrEqual(1);
    expect(parts.every((p) => p >= 0 && p <= 255)).toBe(true);
  }
});

test('a child under withPrivateHosts resolves the fake names; the machine /etc/hosts is unchanged', () => {
  if (!canUsePrivilegedLoopback()) {
    if (process.env.CI === 'true')
      throw new Error('withPrivateHosts needs root (unshare --mount); CI runs as root');
    console.log('withPrivateHosts needs root; not run outside CI');
    return;
  }
  const before = readFileSync('/etc/hosts', 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'aks-ss-hosts-'));
  try {
    const hostsFile = writeHostsFile(dir, { 'kv1.vault.fake.test': '127.9.8.7' });
    const [command, args] = withPrivateHosts(hostsFile, 'getent', ['hosts', 'kv1.vault.fake.test']);
    expect(execFileSync(command, args, { encoding: 'utf8' })).toMatch(
      /^127\.9\.8\.7\s+kv1\.vault\.fake\.test/,
    );
    expect(readFileSync('/etc/hosts', 'utf8')).toBe(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with a service-account CA, the child reads it at the pod's path; the machine's /run is unchanged", () => {
  if (!canUsePrivilegedLoopback()) {
    if (process.env.CI === 'true')
      throw new Error('withPrivateHosts needs root (unshare --mount, a tmpfs over /run); CI runs as root');
    console.log('withPrivateHosts needs root; not run outside CI');
    return;
  }
  const secretsDirBefore = existsSync('/run/secrets');
  const dir = mkdtempSync(join(tmpdir(), 'aks-ss-hosts-'));
  try {
    const hostsFile = writeHostsFile(dir, {});
    const ca = join(dir, 'cluster-ca.pem');
    writeFileSync(ca, 'cluster CA for the test\n');
    const [command, args] = withPrivateHosts(hostsFile, 'cat', [SERVICE_ACCOUNT_CA_PATH], ca);
    expect(execFileSync(command, args, { encoding: 'utf8' })).toBe('cluster CA for the test\n');
    expect(existsSync(SERVICE_ACCOUNT_CA_PATH)).toBe(false);
    expect(existsSync('/run/secrets')).toBe(secretsDirBefore);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
