import { readFileSync } from 'fs';
import { join } from 'path';
import { PACKAGE_VERSION, packageVersion } from '../../lib/core/package-version';

describe('PACKAGE_VERSION', () => {
  test('is the version in package.json (bump both together)', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect({ 'lib/core/package-version.ts': PACKAGE_VERSION }).toEqual({
      'lib/core/package-version.ts': pkg.version,
    });
    expect(packageVersion()).toBe(PACKAGE_VERSION);
  });

  test('the pure model reads no file for it', () => {
    const source = readFileSync(join(__dirname, '../../lib/core/package-version.ts'), 'utf8');
    expect(source).not.toMatch(/from 'node:fs'|from 'fs'|require\(/);
  });
});
