// Which mappings memory release may madvise away: only never-written, read-only, private file mappings.
// Every other kind here would lose data (or the call would fail) if it were released.
import { readFileSync } from 'node:fs';
import { parseSmaps, releasableMappings } from '../../../../runtime/common/memory/releasable-mappings';

function mapping(header: string, fields: Record<string, number>, vmFlags = 'rd ex mr mw me'): string {
  return [
    header,
    ...Object.entries(fields).map(([name, kib]) => `${`${name}:`.padEnd(16)}${String(kib).padStart(8)} kB`),
    `VmFlags: ${vmFlags}`,
  ].join('\n');
}

const CLEAN = { Size: 8, Rss: 8, Private_Dirty: 0, Anonymous: 0, Locked: 0 };
const NODE = '/usr/local/bin/node';

const SMAPS = [
  mapping(`00400000-00402000 r--p 00000000 08:01 1234  ${NODE}`, CLEAN),
  mapping(`00750000-00752000 r-xp 00350000 08:01 1234  ${NODE}`, CLEAN),
  // RELRO: written by the dynamic loader, then made read-only; its pages are private copies.
  mapping(`06b85000-06b87000 r--p 06784000 08:01 1234  ${NODE}`, {
    ...CLEAN,
    Private_Dirty: 8,
    Anonymous: 8,
  }),
  mapping(`06b87000-06b89000 rw-p 06786000 08:01 1234  ${NODE}`, CLEAN),
  mapping('07000000-07002000 rw-p 00000000 00:00 0     [heap]', { ...CLEAN, Anonymous: 8 }),
  mapping('7f0000000000-7f0000002000 r--p 00000000 00:00 0 ', CLEAN),
  mapping('7f0000002000-7f0000004000 r--s 00000000 08:01 99    /usr/lib/locale/locale-archive', CLEAN),
  mapping('7f0000004000-7f0000006000 r--p 00000000 00:05 7     /dev/zero', CLEAN),
  mapping('7f0000006000-7f0000008000 r-xp 00000000 00:01 8     /memfd:jit (deleted)', CLEAN),
  mapping('7f0000008000-7f000000a000 r-xp 00000000 08:01 9     /tmp/replaced.so (deleted)', CLEAN),
  mapping(
    '7f000000a000-7f000000c000 r-xp 00000000 08:01 10    /usr/lib/locked.so',
    { ...CLEAN, Locked: 8 },
    'rd ex lo',
  ),
  mapping('7f000000c000-7f000000e000 r-xp 00000000 08:01 11    /usr/lib/cold.so', { ...CLEAN, Rss: 0 }),
  mapping('7f000000e000-7f0000010000 r-xp 00000000 08:01 12    /usr/lib/libc.so.6', CLEAN),
  // Just written to disk (an image layer containerd has just unpacked): dirty page cache, no copy of ours.
  mapping('7f0000020000-7f0000022000 r-xp 00000000 00:40 14    /usr/lib/fresh.so', {
    ...CLEAN,
    Private_Dirty: 8,
  }),
  mapping('7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0     [vdso]', CLEAN),
  // No Anonymous line (a kernel that does not say): unknown counts as written.
  `7f0000010000-7f0000012000 r-xp 00000000 08:01 13    /usr/lib/unknown.so\nRss:                   8 kB`,
].join('\n');

it('parses ranges, permissions, paths and the fields it decides on', () => {
  const [first, , relro] = parseSmaps(SMAPS);
  expect(first).toEqual({
    start: 0x400000n,
    end: 0x402000n,
    perms: 'r--p',
    path: NODE,
    rssKiB: 8,
    anonymousKiB: 0,
    locked: false,
  });
  expect(relro).toMatchObject({ anonymousKiB: 8 });
});

it('releases only the read-only private file mappings that were never written', () => {
  expect(releasableMappings(parseSmaps(SMAPS)).map((m) => `${m.perms} ${m.path}`)).toEqual([
    `r--p ${NODE}`,
    `r-xp ${NODE}`,
    'r-xp /usr/lib/libc.so.6',
    'r-xp /usr/lib/fresh.so',
  ]);
});

it('finds this process binary among its own releasable mappings (Linux)', () => {
  if (process.platform !== 'linux') return;
  const own = parseSmaps(readFileSync('/proc/self/smaps', 'utf8'));
  expect(own.length).toBeGreaterThan(10);
  const releasable = releasableMappings(own);
  expect(releasable.some((m) => m.perms === 'r-xp')).toBe(true);
  // Never a writable or anonymous mapping, whatever this process has mapped.
  for (const m of releasable) {
    expect(m.perms).toMatch(/^r-[x-]p$/);
    expect(m.anonymousKiB).toBe(0);
    expect(m.path).toMatch(/^\//);
  }
});
