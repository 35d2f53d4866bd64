// The image's one-file bundle of the provider (runtime/image/build-bundles.ts, made by `npm run build`) and
// how the CLI picks it (runtime/image/image-bundle.ts): the provider runs from its bundle and loads none of
// its compiled modules; the driver, not bundled, loads its modules; a bundle older than the modules (tsc ran
// again alone) or a missing one falls back to the modules. Every test that starts `cli.js provider` runs
// the bundle too.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUNDLED_PROCESSES, bundlePath, currentBundle } from '../../../runtime/image/image-bundle';

const BUILD = path.resolve(__dirname, '../../../build/runtime');
const CLI = path.join(BUILD, 'cli.js');
const BUNDLES = path.join(BUILD, 'image', 'bundle');

const reason = [path.join(BUNDLES, 'provider.js')].find((file) => !fs.existsSync(file));
if (reason && process.env.CI === 'true') throw new Error(`${reason} is not built: run \`npm run build\``);
if (reason) console.warn(`bundle tests skipped: ${reason} is not built (npm run build)`);
const itBuilt = reason ? it.skip : it;

/** Runs `cli.js <args>`: its exit status, stderr and the files it loaded (relative to build/runtime). */
function runCli(args: string[], cli = CLI): { status: number | null; stderr: string; loaded: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'));
  try {
    const record = path.join(dir, 'loaded.json');
    const preload = path.join(dir, 'record.js');
    fs.writeFileSync(
      preload,
      `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const run = spawnSync(process.execPath, ['-r', preload, cli, ...args], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const root = path.dirname(cli);
    const loaded = (JSON.parse(fs.readFileSync(record, 'utf8')) as string[])
      .filter((file) => file.startsWith(root + path.sep))
      .map((file) => path.relative(root, file));
    return { status: run.status, stderr: run.stderr, loaded };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the image bundle', () => {
  itBuilt('the build makes no driver bundle: the driver loads its modules (a bundle cost it heap)', () => {
    expect(BUNDLED_PROCESSES).toEqual(['provider']);
    expect(fs.readdirSync(BUNDLES)).toEqual(['provider.js']);
    const run = runCli(['driver', '--version']);
    expect(run.status).toBe(0);
    expect(run.loaded).toContain(path.join('driver', 'main.js'));
    expect(run.loaded.filter((file) => file.startsWith(`image${path.sep}bundle`))).toEqual([]);
  });

  itBuilt('the provider runs from its bundle: its flag check answers as the modules do', () => {
    const run = runCli(['provider', '--bogus=1']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('flag provided but not defined: --bogus');
    expect(run.loaded).toContain(path.join('image', 'bundle', 'provider.js'));
    expect(run.loaded.filter((file) => /^(driver|provider|wire)\//.test(file))).toEqual([]);
  });

  describe('currentBundle', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-pick-'));
      fs.mkdirSync(path.join(dir, 'runtime', 'image', 'bundle'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'runtime', 'provider'));
      fs.writeFileSync(path.join(dir, 'runtime', 'provider', 'main.js'), '');
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const bundles = () => path.join(dir, 'runtime', 'image', 'bundle');

    it('is none where no bundle was made (a development build, the npm package)', () => {
      expect(currentBundle('provider', bundles())).toBeUndefined();
    });

    it('is the bundle when it is as new as the modules, and none when tsc ran again after it', () => {
      const bundle = bundlePath('provider', bundles());
      fs.writeFileSync(bundle, '');
      const main = path.join(dir, 'runtime', 'provider', 'main.js');
      fs.utimesSync(main, new Date(1_000_000), new Date(1_000_000));
      fs.utimesSync(bundle, new Date(2_000_000), new Date(2_000_000));
      expect(currentBundle('provider', bundles())).toBe(bundle);
      fs.utimesSync(main, new Date(3_000_000), new Date(3_000_000));
      expect(currentBundle('provider', bundles())).toBeUndefined();
    });

    it('is none when the modules it stands for are gone', () => {
      fs.writeFileSync(bundlePath('provider', bundles()), '');
      fs.rmSync(path.join(dir, 'runtime', 'provider', 'main.js'));
      expect(currentBundle('provider', bundles())).toBeUndefined();
    });
  });
});
