// readAtMost, the bounded read of a cloud environment file: the whole file within the limit whatever
// the stat said (the file may grow or shrink after it), nothing once it passes the limit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAtMost } from '../../../runtime/provider/clouds';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-ss-read-at-most-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function read(content: Buffer, sizeHint: number, limit: number): Promise<Buffer | undefined> {
  const file = path.join(dir, `f-${content.length}-${sizeHint}-${limit}`);
  fs.writeFileSync(file, content);
  const handle = await fs.promises.open(file, 'r');
  try {
    return await readAtMost(handle, sizeHint, limit);
  } finally {
    await handle.close();
  }
}

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256));

describe('readAtMost', () => {
  it.each([
    ['the size the stat gave', 300, 300],
    ['a file that grew after the stat', 5000, 300],
    ['a stat of 0 bytes', 5000, 0],
    ['a file that shrank after the stat', 300, 5000],
    ['an empty file', 0, 0],
  ])('returns every byte for %s', async (_, size, hint) => {
    const content = bytes(size);
    expect(await read(content, hint, 64 * 1024)).toEqual(content);
  });

  it('returns a file of exactly the limit, whatever the hint', async () => {
    for (const hint of [0, 1, 1000, 1024, 4096])
      expect(await read(bytes(1024), hint, 1024)).toEqual(bytes(1024));
  });

  it('returns nothing for one byte more than the limit, whatever the hint', async () => {
    for (const hint of [0, 1, 1000, 1024, 1025, 4096])
      expect(await read(bytes(1025), hint, 1024)).toBeUndefined();
    expect(await read(bytes(70 * 1024), 100, 64 * 1024)).toBeUndefined();
  });
});
