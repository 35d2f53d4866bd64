// The SPCPS restart journal on a real directory: entries written atomically and read back, the file
// name a hash of the target path, and every kind of hostile file (garbage, huge, wrong types, unknown
// fields, a path of the wrong shape or under another name, symlinks, leftovers) deleted with a warning
// instead of crashing the driver or being followed. Also its cost, which must stay far below the API
// round trip it takes off the first mount.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MAX_ENTRY_BYTES,
  PendingPodStatus,
  PodStatusJournal,
} from '../../../../runtime/driver/cluster/pod-status-journal';

const UID = '6d5c1f0e-2b1a-4c4e-9a57-0d1e2f3a4b5c';
const TARGET = `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~csi/secrets-store/mount`;

function entry(overrides: Partial<PendingPodStatus> = {}): PendingPodStatus {
  return {
    pod: { namespace: 'shop', name: 'web-0', uid: UID },
    spcName: 'db',
    targetPath: TARGET,
    objectVersions: [{ id: 'secret/db-password', version: 'v1' }],
    ...overrides,
  };
}

describe('PodStatusJournal', () => {
  let root: string;
  let dir: string;
  let invalid: Array<{ file: string; why: string }>;
  let journal: PodStatusJournal;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'spcps-journal-'));
    dir = path.join(root, 'pod-status-journal');
    invalid = [];
    journal = new PodStatusJournal({ dir, onInvalidEntry: (file, why) => invalid.push({ file, why }) });
  });

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A file in the journal as someone else might have left it, under the name of TARGET by default. */
  function plant(content: string | Buffer, name = path.basename(journal.fileOf(TARGET))): string {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  }

  it('writes one 0600 file per target path in a 0700 directory, replaces it atomically and reads it back', () => {
    expect(journal.readAll()).toEqual([]); // no directory yet: no entries
    journal.record(entry());
    journal.record(entry({ objectVersions: [{ id: 'secret/db-password', version: 'v2' }] }));
    const other = TARGET.replace(UID, '11111111-2222-3333-4444-555555555555');
    journal.record(
      entry({ pod: { namespace: 'shop', name: 'web-1', uid: other.split('/')[5] }, targetPath: other }),
    );
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(dir).sort();
    expect(files).toHaveLength(2); // no temporary file left behind
    for (const f of files) {
      expect(f).toMatch(/^[0-9a-f]{40}\.json$/); // a hash: no path text in a file name
      expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    }
    const read = journal.readAll().sort((a, b) => a.pod.name.localeCompare(b.pod.name));
    expect(read).toEqual([
      entry({ objectVersions: [{ id: 'secret/db-password', version: 'v2' }] }),
      expect.objectContaining({ targetPath: other }),
    ]);
    journal.forget(TARGET);
    journal.forget(TARGET); // idempotent
    expect(journal.readAll().map((e) => e.targetPath)).toEqual([other]);
    expect(invalid).toEqual([]);
  });

  it('holds object ids and versions only, whatever else the caller passes', () => {
    const withExtras = {
      ...entry(),
      objectVersions: [{ id: 'secret/a', version: 'v1', contents: 'hunter2' }],
      token: 'eyJhbGciOi',
    } as unknown as PendingPodStatus;
    journal.record(withExtras);
    const text = fs.readFileSync(journal.fileOf(TARGET), 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('eyJhbGciOi');
    expect(JSON.parse(text)).toEqual({
      version: 1,
      pod: { namespace: 'shop', name: 'web-0', uid: UID },
      spcName: 'db',
      targetPath: TARGET,
      objectVersions: [{ id: 'secret/a', version: 'v1' }],
    });
  });

  const valid = () => JSON.parse(JSON.stringify({ version: 1, ...entry() })) as Record<string, unknown>;
  const hostile: Array<[string, () => string | Buffer, RegExp]> = [
    ['garbage bytes', () => Buffer.from([0xff, 0x00, 0x7b, 0x13]), /not JSON/],
    ['truncated JSON', () => JSON.stringify(valid()).slice(0, 40), /not JSON/],
    ['a JSON list', () => '[1,2,3]', /not a JSON object/],
    ['a huge file', () => ' '.repeat(MAX_ENTRY_BYTES + 1), /more than/],
    ['another format version', () => JSON.stringify({ ...valid(), version: 2 }), /format version 2/],
    ['an unknown field', () => JSON.stringify({ ...valid(), files: { a: 'secret' } }), /unexpected fields/],
    [
      'a numeric pod uid',
      () => JSON.stringify({ ...valid(), pod: { namespace: 'a', name: 'b', uid: 7 } }),
      /pod is not/,
    ],
    ['objectVersions as a string', () => JSON.stringify({ ...valid(), objectVersions: 'v1' }), /not a list/],
    [
      'an object version with a numeric id',
      () => JSON.stringify({ ...valid(), objectVersions: [{ id: 1, version: 'v' }] }),
      /objectVersions holds/,
    ],
    ['an empty spc name', () => JSON.stringify({ ...valid(), spcName: '' }), /spcName/],
    [
      'a path outside kubelet pods dir',
      () => JSON.stringify({ ...valid(), targetPath: '/etc/kubernetes' }),
      /is not of the form/,
    ],
    [
      'a path that climbs out with ..',
      () =>
        JSON.stringify({
          ...valid(),
          targetPath: `/var/lib/kubelet/pods/${UID}/../../../../etc/volumes/kubernetes.io~csi/x/mount`,
        }),
      /without "\."/,
    ],
    [
      "another pod's path",
      () => JSON.stringify({ ...valid(), targetPath: TARGET.replace(UID, 'other-uid') }),
      /belongs to pod uid other-uid/,
    ],
  ];
  it.each(hostile)('deletes %s with a warning and reads on', (_what, content, why) => {
    const file = plant(content());
    journal.record(entry({ targetPath: TARGET.replace('secrets-store', 'second') }));
    const read = journal.readAll();
    expect(read.map((e) => e.targetPath)).toEqual([TARGET.replace('secrets-store', 'second')]);
    expect(invalid).toEqual([{ file, why: expect.stringMatching(why) }]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('deletes a valid entry filed under a name that is not its own (a planted path never gets a second name)', () => {
    const file = plant(JSON.stringify(valid()), `${'0'.repeat(40)}.json`);
    expect(journal.readAll()).toEqual([]);
    expect(invalid).toEqual([{ file, why: 'the file name is not the one of its target path' }]);
  });

  it('never follows a symlink, leaves a subdirectory alone and removes leftover temporary files', () => {
    const secret = path.join(root, 'elsewhere.json');
    fs.writeFileSync(secret, JSON.stringify(valid()));
    fs.mkdirSync(dir, { recursive: true });
    const link = path.join(dir, path.basename(journal.fileOf(TARGET)));
    fs.symlinkSync(secret, link);
    fs.mkdirSync(path.join(dir, 'sub.json'));
    plant('half', '.tmp-abc.json-123');
    expect(journal.readAll()).toEqual([]);
    expect(fs.existsSync(link)).toBe(false); // the link is gone, its target untouched
    expect(fs.readFileSync(secret, 'utf8')).toBe(JSON.stringify(valid()));
    expect(fs.existsSync(path.join(dir, 'sub.json'))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['sub.json']);
    expect(invalid.map((i) => i.why).sort()).toEqual([
      'a directory, not an entry; left alone',
      'not a regular file',
    ]);
  });

  it('reads at most maxEntries files per start and leaves the rest for the next one', () => {
    const bounded = new PodStatusJournal({ dir, maxEntries: 3 });
    for (let i = 0; i < 5; i++)
      bounded.record(entry({ targetPath: TARGET.replace('secrets-store', `v${i}`) }));
    expect(bounded.readAll()).toHaveLength(3);
    expect(fs.readdirSync(dir)).toHaveLength(5);
  });

  it('creates the directory again when it was removed while the driver runs', () => {
    journal.record(entry());
    fs.rmSync(dir, { recursive: true });
    journal.record(entry());
    expect(journal.readAll()).toEqual([entry()]);
  });

  it('refuses a journal path that is a file, naming it', () => {
    fs.writeFileSync(dir, 'not a directory');
    expect(() => journal.readAll()).toThrow(`pod status journal ${dir} is not a directory`);
    expect(() => journal.record(entry())).toThrow(); // the node server then writes before answering
  });

  it('costs far less than an API round trip (~5-8 ms) per record + forget', () => {
    const objects = Array.from({ length: 10 }, (_, i) => ({ id: `secret/s${i}`, version: `v${i}` }));
    journal.record(entry()); // the directory is created once
    const rounds = 200;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      journal.record(entry({ objectVersions: objects }));
      journal.forget(TARGET);
    }
    const perRoundMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
    console.log(`pod status journal: record + forget ${perRoundMs.toFixed(3)} ms`);
    expect(perRoundMs).toBeLessThan(2);
  });
});
