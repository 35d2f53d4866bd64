import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PayloadFile,
  readMountedFiles,
  writePayloadAtomically,
} from '../../../../runtime/driver/volume/atomic-writer';

/** A volume directory inside a parent of its own, so a test can count what appears next to it. */
function tempTarget(): string {
  const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aw-')), 'mount');
  fs.mkdirSync(target);
  return target;
}
const file = (p: string, contents: string, mode = 0o644): PayloadFile => ({
  path: p,
  mode,
  contents: Buffer.from(contents),
});

describe('atomic writer', () => {
  it('writes the ..data layout: timestamped dir, ..data link, top-level links, exact modes', () => {
    const target = tempTarget();
    const result = writePayloadAtomically(target, [file('a', 'A', 0o400), file('dir/b', 'B', 0o640)]);
    expect(result.changed).toBe(true);
    expect(result.dataDir).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.[0-9a-f]+$/);
    expect(fs.readlinkSync(path.join(target, '..data'))).toBe(result.dataDir);
    expect(fs.readlinkSync(path.join(target, 'a'))).toBe('..data/a');
    expect(fs.readlinkSync(path.join(target, 'dir'))).toBe('..data/dir');
    expect(fs.readFileSync(path.join(target, 'dir/b'), 'utf8')).toBe('B');
    expect(fs.statSync(path.join(target, 'a')).mode & 0o777).toBe(0o400);
    expect(fs.statSync(path.join(target, 'dir/b')).mode & 0o777).toBe(0o640);
    expect(fs.statSync(path.join(target, result.dataDir)).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(path.join(target, '..data_tmp'))).toBe(false);
    expect([...readMountedFiles(target).keys()].sort()).toEqual(['a', 'dir/b']);
  });

  it('does not write identical content, but does write a changed mode', () => {
    const target = tempTarget();
    const first = writePayloadAtomically(target, [file('a', 'A')]);
    const same = writePayloadAtomically(target, [file('a', 'A')]);
    expect(same).toEqual({ changed: false, dataDir: first.dataDir });
    const modeOnly = writePayloadAtomically(target, [file('a', 'A', 0o600)]);
    expect(modeOnly.changed).toBe(true);
    expect(fs.statSync(path.join(target, 'a')).mode & 0o777).toBe(0o600);
  });

  it('removes files the provider no longer returns; keeps the replaced generation for readers in flight', () => {
    const target = tempTarget();
    const noGrace = { retiredGraceMs: 0 };
    const first = writePayloadAtomically(target, [file('a', 'A'), file('b', 'B')], noGrace);
    const second = writePayloadAtomically(target, [file('b', 'B2')], noGrace);
    expect(fs.existsSync(path.join(target, 'a'))).toBe(false);
    expect(fs.readFileSync(path.join(target, 'b'), 'utf8')).toBe('B2');
    expect(fs.readdirSync(target).sort()).toEqual(['..data', first.dataDir, second.dataDir, 'b'].sort());
    const third = writePayloadAtomically(target, [file('b', 'B3')], noGrace);
    expect(fs.readdirSync(target).sort()).toEqual(['..data', second.dataDir, third.dataDir, 'b'].sort());
    expect([...readMountedFiles(target).keys()]).toEqual(['b']);
  });

  it('keeps replaced generations within the grace period', () => {
    const target = tempTarget();
    const dirs = [1, 2, 3, 4].map(
      (n) => writePayloadAtomically(target, [file('b', `B${n}`)], { retiredGraceMs: 3_600_000 }).dataDir,
    );
    expect(fs.readdirSync(target).sort()).toEqual(['..data', ...dirs, 'b'].sort());
  });

  it('replaces a file a legacy provider wrote itself with the link', () => {
    const target = tempTarget();
    fs.writeFileSync(path.join(target, 'a'), 'legacy');
    writePayloadAtomically(target, [file('a', 'new')]);
    expect(fs.lstatSync(path.join(target, 'a')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(target, 'a'), 'utf8')).toBe('new');
  });

  it.each([
    ['../outside', 0o644],
    ['/abs', 0o644],
    ['..data', 0o644],
    ['..data/x', 0o644],
    ['ok', 0o4755],
    ['ok', -1],
  ])('writes nothing for path %j mode %o', (p, mode) => {
    const target = tempTarget();
    const parent = path.dirname(target);
    const before = fs.readdirSync(parent).length;
    writePayloadAtomically(target, [file('keep', 'old')]);
    const layout = fs.readdirSync(target).sort();
    expect(() =>
      writePayloadAtomically(target, [file('good', 'x'), { path: p, mode, contents: Buffer.from('evil') }]),
    ).toThrow();
    expect(fs.readdirSync(target).sort()).toEqual(layout);
    expect(fs.readFileSync(path.join(target, 'keep'), 'utf8')).toBe('old');
    expect(fs.existsSync(path.join(parent, 'outside'))).toBe(false);
    expect(fs.readdirSync(parent).length).toBe(before);
  });

  it('never shows a reader a torn, empty or mixed state during 1,000 rotations', async () => {
    const target = tempTarget();
    const names = ['a', 'b', 'dir/c'];
    const payload = (gen: number): PayloadFile[] =>
      names.map((name) => file(name, `gen=${gen};name=${name};${'x'.repeat(2048 + (gen % 7) * 512)};end`));
    writePayloadAtomically(target, payload(0));
    const stopFile = path.join(os.tmpdir(), `stop-${process.pid}-${Date.now()}`);
    const reader = spawn(process.execPath, [
      path.join(__dirname, '..', 'support', 'torn-read-checker.js'),
      target,
      names.join(','),
      stopFile,
      '60000',
    ]);
    let output = '';
    reader.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number>((resolve) => reader.on('exit', (code) => resolve(code ?? -1)));
    // Let the reader start its loop before the first rotation.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let gen = 1; gen <= 1000; gen++) {
      expect(writePayloadAtomically(target, payload(gen)).changed).toBe(true);
      if (gen % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    fs.writeFileSync(stopFile, '');
    expect(await exited).toBe(0);
    fs.rmSync(stopFile);
    const result = JSON.parse(output) as {
      reads: number;
      snapshots: number;
      torn: number;
      empty: number;
      mixed: number;
      missing: number;
      generations: number;
      samples: unknown[];
    };
    expect({ ...result, reads: 0, snapshots: 0, generations: 0 }).toEqual({
      reads: 0,
      snapshots: 0,
      generations: 0,
      torn: 0,
      empty: 0,
      mixed: 0,
      missing: 0,
      samples: [],
    });
    expect(result.reads).toBeGreaterThan(100);
    expect(result.snapshots).toBeGreaterThan(10);
    expect(result.generations).toBeGreaterThan(1);
    expect(fs.readFileSync(path.join(target, 'dir/c'), 'utf8')).toContain('gen=1000;');
  }, 120_000);
});
