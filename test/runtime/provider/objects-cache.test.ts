// The parsed `objects` texts the provider reuses across Mounts: a hit is what a parse gives, nothing
// invalid is kept (each bad text fails with its own error every time), the per-request parts (file
// mode from the request's permission) are never cached, and a pod author who varies the text costs no
// more than the bounds.
import { parseObjectsParameter } from '../../../lib/core/key-vault-objects';
import { knownCloud } from '../../../runtime/provider/clouds';
import { ObjectsCache } from '../../../runtime/provider/objects-cache';
import { parseMountRequest } from '../../../runtime/provider/parameters';
import { mountRequest, objectsYaml } from './support/mount-request';

const SP = { clientid: 'app-client-id', clientsecret: 'never-printed-secret-value' };
const BASE = { keyvaultName: 'kv1', tenantId: 'tenant-1' };
const OBJECTS = objectsYaml([
  { objectName: 'a', objectType: 'secret' },
  { objectName: 'b', objectType: 'secret', filePermission: '0600' },
]);

function counting() {
  const counter = { calls: 0 };
  const parse = (text: string) => {
    counter.calls++;
    return parseObjectsParameter(text);
  };
  return { counter, parse };
}

function parse(objects: string, cache?: ObjectsCache, permission = '420') {
  return parseMountRequest(mountRequest({ parameters: { ...BASE, objects }, secrets: SP, permission }), {
    defaultCloud: knownCloud('AzurePublicCloud'),
    objectsCache: cache,
  });
}

describe('ObjectsCache', () => {
  it('parses a text once and returns what the parse gave, frozen', () => {
    const cache = new ObjectsCache();
    const { counter, parse: parseText } = counting();
    const first = cache.parse(OBJECTS, parseText);
    const second = cache.parse(OBJECTS, parseText);
    expect(counter.calls).toBe(1);
    expect(second).toBe(first);
    expect(first).toEqual(parseObjectsParameter(OBJECTS));
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
  });

  it('keeps nothing of a text that fails: the same error every time', () => {
    const cache = new ObjectsCache();
    const { counter, parse: parseText } = counting();
    const bad = 'array:\n  - |\n    objectName: [unclosed\n';
    const errors = [0, 1].map(() => {
      try {
        cache.parse(bad, parseText);
        return 'no error';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(errors[0]).toMatch(/failed to yaml unmarshal objects|unmarshal failed/);
    expect(errors[1]).toBe(errors[0]);
    expect(counter.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('is bounded in entries and in characters, least recently used out first', () => {
    const cache = new ObjectsCache({ maxEntries: 3, maxChars: 10_000 });
    const { counter, parse: parseText } = counting();
    const texts = Array.from({ length: 5 }, (_, i) =>
      objectsYaml([{ objectName: `s${i}`, objectType: 'secret' }]),
    );
    for (const text of texts) cache.parse(text, parseText);
    expect(cache.size).toBe(3);
    cache.parse(texts[4], parseText); // kept
    cache.parse(texts[0], parseText); // evicted earlier: parsed again
    expect(counter.calls).toBe(6);

    const small = new ObjectsCache({ maxEntries: 100, maxChars: 2 * texts[0].length });
    for (const text of texts) small.parse(text, parseText);
    expect(small.size).toBe(2);
    // A text longer than the whole budget is parsed and answered, never kept.
    const huge = objectsYaml(
      Array.from({ length: 20 }, (_, i) => ({ objectName: `h${i}`, objectType: 'secret' })),
    );
    const tiny = new ObjectsCache({ maxChars: huge.length - 1 });
    expect(tiny.parse(huge, parseText)).toHaveLength(20);
    expect(tiny.size).toBe(0);
  });
});

describe('parseMountRequest with the cache', () => {
  it('gives the same parameters as without it, the file mode still from each request', async () => {
    const cache = new ObjectsCache();
    const plain = await parse(OBJECTS);
    const cached = await parse(OBJECTS, cache);
    const hit = await parse(OBJECTS, cache);
    expect(cached).toEqual(plain);
    expect(hit).toEqual(plain);
    expect(cache.size).toBe(1);
    // Same text, another permission: the default mode follows the request, filePermission the object.
    const other = await parse(OBJECTS, cache, '256');
    expect(other.objects.map((o) => o.fileMode)).toEqual([0o400, 0o600]);
    expect(hit.objects.map((o) => o.fileMode)).toEqual([0o644, 0o600]);
    // What a Mount gets is its own copy: changing it leaves the cache as it was.
    (hit.objects[0] as { objectName: string }).objectName = 'changed';
    expect((await parse(OBJECTS, cache)).objects[0].objectName).toBe('a');
  });

  it('fails a bad text with the error it gives without the cache, every time', async () => {
    const cache = new ObjectsCache();
    const texts = [
      objectsYaml([
        { objectName: 'a', objectType: 'secret' },
        { objectName: 'a', objectType: 'secret' },
      ]),
      objectsYaml([{ objectName: 'a'.repeat(2000), objectType: 'secret' }]),
      objectsYaml([{ objectName: 'a', objectType: 'secret', objectVersionHistory: 'x' }]),
      objectsYaml([{ objectName: 'bad name', objectType: 'secret' }]),
    ];
    for (const text of texts) {
      const expected = await parse(text).then(
        () => 'no error',
        (err: Error) => err.message,
      );
      expect(expected).not.toBe('no error');
      for (let i = 0; i < 2; i++) await expect(parse(text, cache)).rejects.toThrow(expected);
    }
    // Texts whose own objects parse but then fail a later check are kept; none of them fails differently.
    expect(cache.size).toBeLessThanOrEqual(texts.length);
  });
});
