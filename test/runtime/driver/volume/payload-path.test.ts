import {
  PayloadPathError,
  validatePayloadPath,
  validatePayloadPaths,
} from '../../../../runtime/driver/volume/payload-path';

describe('provider file path validation', () => {
  it.each(['foo', 'a/b/c', 'foo.txt', '.hidden', 'a..b', 'dir/..x', 'x'.repeat(255)])('accepts %s', (p) => {
    expect(() => validatePayloadPath(p)).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['../escape', '".." element'],
    ['a/../../escape', '".." element'],
    ['..', '".." element'],
    ['..data', 'reserved for the writer'],
    ['..data/foo', 'reserved for the writer'],
    ['..sneaky.txt', 'reserved for the writer'],
    ['foo////bar', 'not clean'],
    ['./x', 'not clean'],
    ['a/', 'not clean'],
    ['a/./b', 'not clean'],
    ['a\0b', 'NUL'],
    ['x'.repeat(256), 'longer than 255'],
    [`${'a/'.repeat(2049)}a`, 'longer than 4096'],
  ])('rejects %j (%s)', (p, why) => {
    expect(() => validatePayloadPath(p)).toThrow(PayloadPathError);
    expect(() => validatePayloadPath(p)).toThrow(why);
  });

  it('rejects a duplicate path and a file that is also a directory', () => {
    expect(() => validatePayloadPaths(['a', 'a'])).toThrow('more than once');
    expect(() => validatePayloadPaths(['a', 'a/b'])).toThrow('its parent "a" is also returned as a file');
    expect(() => validatePayloadPaths(['a/b', 'a/c', 'd'])).not.toThrow();
  });

  it('names the bad path in the message', () => {
    expect(() => validatePayloadPath('../x')).toThrow('invalid file path "../x" returned by the provider');
  });
});
