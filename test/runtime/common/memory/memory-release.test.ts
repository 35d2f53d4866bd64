// Memory release in a real Node process with the built addon (build/runtime/native, `npm run build`): the
// binary's clean pages leave RSS, and everything the process does afterwards still computes the same bytes.
// The addon refuses what is not a page range; a missing addon or a bad interval is named with its fix.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { FlagError } from '../../../../runtime/common/go-compat/flags';
import { Logger } from '../../../../runtime/common/logging/logger';
import {
  checkMemoryReleaseInterval,
  loadMemoryRelease,
  startMemoryRelease,
} from '../../../../runtime/common/memory/memory-release';

const BUILD = path.resolve(__dirname, '../../../../build/runtime');
const ADDON = path.join(BUILD, 'native', 'syscalls.node');
const COMPILED = path.join(BUILD, 'common', 'memory', 'memory-release.js');
const missing = [ADDON, COMPILED].filter((file) => !existsSync(file));
const reason =
  process.platform !== 'linux'
    ? 'memory release is Linux only'
    : missing.length > 0
      ? `${missing.join(', ')} not built: run \`npm run build\` (needs gcc and Node's headers)`
      : undefined;
if (reason && process.env.CI === 'true') throw new Error(`memory release cannot be tested: ${reason}`);
const itBuilt = reason ? it.skip : it;
if (reason) console.warn(`memory-release tests skipped: ${reason}`);

/** A child Node that loads lib code, releases, then works again; prints what it saw as JSON. */
const CHILD = `
const fs = require('node:fs');
const status = () => Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\\n')
  .map((l) => /^(VmRSS|RssAnon|RssFile):\\s+(\\d+) kB/.exec(l)).filter(Boolean).map((m) => [m[1], Number(m[2])]));
const work = () => {
  const zlib = require('node:zlib'), crypto = require('node:crypto');
  const text = JSON.stringify({ n: Array.from({ length: 1000 }, (_, i) => i * 7) });
  return {
    gunzip: zlib.gunzipSync(zlib.gzipSync(text)).toString() === text,
    sha256: crypto.createHash('sha256').update('aks-secrets-store').digest('hex'),
    tls: require('node:tls').createSecureContext() !== undefined,
    url: new URL('https://vault.vault.azure.net/secrets/a?api-version=7.4').searchParams.get('api-version'),
  };
};
const before = work();
const { loadMemoryRelease } = require(${JSON.stringify(COMPILED)});
const loaded = loadMemoryRelease(${JSON.stringify(ADDON)});
if (!loaded.ok) throw new Error(loaded.reason);
const rssBefore = status();
const result = loaded.release();
const rssAfter = status();
const after = work();
const again = loaded.release();
const addon = require(${JSON.stringify(ADDON)});
const refusals = [[1n, 4096n], [4096n, 0n], [4096n, 1n], [-4096n, 4096n], ['4096', 4096n]].map(([s, l]) => {
  try { addon.dropCleanPages(s, l); return 'accepted'; } catch (e) { return e.message; }
});
process.stdout.write(JSON.stringify({ before, after, rssBefore, rssAfter, result, again, refusals, final: work() }));
`;

itBuilt('gives the binary clean pages back and the process computes the same afterwards', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['-e', CHILD], { encoding: 'utf8' }));
  expect(out.result.mappings).toBeGreaterThan(0);
  expect(out.result.refused).toBe(0);
  // A Node binary has tens of MiB of clean pages resident; at least 4 MiB of them go.
  expect(out.result.releasedKiB).toBeGreaterThan(4096);
  expect(out.rssBefore.RssFile - out.rssAfter.RssFile).toBeGreaterThan(4096);
  // Same answers after the release, from code and data paged in again.
  expect(out.after).toEqual(out.before);
  expect(out.final).toEqual(out.before);
  expect(out.before).toEqual({
    gunzip: true,
    sha256: 'bbf00f2bd3504242f878cc227805e251c67d6593006b5aeb9694182bc5725624',
    tls: true,
    url: '7.4',
  });
  expect(out.again.refused).toBe(0);
  // Not a page range: refused with a message, never passed to madvise.
  expect(out.refusals).toEqual([
    'dropCleanPages: start and length must be page-aligned and length > 0',
    'dropCleanPages: start and length must be page-aligned and length > 0',
    'dropCleanPages: start and length must be page-aligned and length > 0',
    'dropCleanPages(start, length) takes two non-negative bigints',
    'dropCleanPages(start, length) takes two non-negative bigints',
  ]);
});

it('names a missing addon and the command that builds it', () => {
  const loaded = loadMemoryRelease('/nonexistent/syscalls.node');
  expect(loaded.ok).toBe(false);
  if (loaded.ok) return;
  expect(loaded.reason).toContain('/nonexistent/syscalls.node');
  expect(loaded.reason).toContain('bash runtime/native/build.sh');
});

it('warns once and keeps running when the addon is missing; interval 0 loads nothing', async () => {
  const lines: string[] = [];
  const logger = new Logger({ level: 'debug', sink: (line) => lines.push(line) });
  const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 5));
  startMemoryRelease({ intervalMs: 0, logger, addonPath: '/nonexistent/x.node' }).stop();
  await nextTurn();
  expect(lines).toEqual([]);
  // Stopped before its first turn: nothing loads, nothing is logged.
  startMemoryRelease({ intervalMs: 10_000, logger, addonPath: '/nonexistent/x.node' }).stop();
  await nextTurn();
  expect(lines).toEqual([]);
  const schedule = startMemoryRelease({ intervalMs: 10_000, logger, addonPath: '/nonexistent/x.node' });
  // Nothing inside the caller's start (a SIGTERM handler is installed right after it).
  expect(lines).toEqual([]);
  await nextTurn();
  schedule.stop();
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toMatchObject({
    level: 'warn',
    msg: 'memory release is off; RSS stays higher',
  });
});

it('accepts 0 (off) or 1s to 24h for --memory-release-interval, naming a bad value', () => {
  expect(() => checkMemoryReleaseInterval(0)).not.toThrow();
  expect(() => checkMemoryReleaseInterval(10_000)).not.toThrow();
  for (const bad of [500, -1000, 86_400_001]) {
    expect(() => checkMemoryReleaseInterval(bad)).toThrow(FlagError);
    expect(() => checkMemoryReleaseInterval(bad)).toThrow(
      `invalid value "${bad}ms" for flag --memory-release-interval: must be 0s (off) or from 1s to 24h, e.g. 10s`,
    );
  }
});
