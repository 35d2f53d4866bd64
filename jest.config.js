// Three projects: "unit" needs nothing but Node; "rig" (files named *.rig.test.ts) runs against the real
// components started once by harness/rig/global-setup.ts (kube-apiserver, etcd, lowkey-vault, ...); "node"
// (test/node/**/*.rig.test.ts) against a real kubelet + containerd (harness/rig/node/global-setup.ts).
// isolatedModules comes from tsconfig.json (ts-jest then transpiles per file); types are checked once by tsc --noEmit.
const fs = require('fs');
const path = require('path');

// lowkey-vault (the Key Vault emulator of DESIGN §6) is not served by Maven Central, the only Java registry
// reachable here: harness/rig/build.sh records that in an UNAVAILABLE file. Its test files then cannot run at
// all; they are left out by name, and test/run-all.sh prints the recorded reason as BLOCKED. With a jar
// (LOWKEY_VAULT_JAR=... bash harness/rig/build.sh) they run like every other rig test.
const LOWKEY_TESTS = 'lowkey-vault\\.rig\\.test\\.ts$';
function lowkeyVaultBlocked() {
  const rigCache = path.join(
    process.env.XDG_CACHE_HOME || path.join(require('os').homedir(), '.cache'),
    'aks-secrets-store',
    'rig',
  );
  const dirs = fs.existsSync(rigCache)
    ? fs.readdirSync(rigCache).filter((d) => d.startsWith('lowkey-vault-'))
    : [];
  const hasJar = dirs.some((d) => fs.existsSync(path.join(rigCache, d, 'lowkey-vault-app.jar')));
  const blocked = dirs.some((d) => fs.existsSync(path.join(rigCache, d, 'UNAVAILABLE')));
  return blocked && !hasJar;
}

// test/node/**/*.rig.test.ts run in the "node" project (a kubelet of their own), not in "rig".
const NODE_TESTS = '/test/node/';

// test/run-all.sh runs the Pulumi engine's test files last, once the engine's background build is done:
// AKS_TEST_PULUMI_ENGINE=without leaves them out of the rig project, =only keeps nothing else in it.
const PULUMI_ENGINE_TESTS = [
  '/test/pulumi/lifecycle\\.rig\\.test\\.ts$',
  '/test/pulumi/component-package\\.rig\\.test\\.ts$',
];
const pulumiEngine = process.env.AKS_TEST_PULUMI_ENGINE;
const rigTestRegex =
  pulumiEngine === 'only' ? { testRegex: PULUMI_ENGINE_TESTS } : { testMatch: ['**/*.rig.test.ts'] };
const withoutPulumiEngine = pulumiEngine === 'without' ? PULUMI_ENGINE_TESTS : [];

const tsJest = ['ts-jest', { diagnostics: false }];
// tsconfig.json's `paths` map the package's own name to its sources (examples/ import it by name).
const ts = require('typescript');
const { pathsToModuleNameMapper } = require('ts-jest');
const tsconfigPaths = ts.readConfigFile(path.join(__dirname, 'tsconfig.json'), ts.sys.readFile).config
  .compilerOptions.paths;
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: pathsToModuleNameMapper(tsconfigPaths, { prefix: '<rootDir>/' }),
  moduleFileExtensions: ['ts', 'js', 'json'],
  roots: ['<rootDir>/test'],
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.rig\\.test\\.ts$', '/test/consumer/'],
    },
    // The package as a user installs it (npm pack, fresh cdk8s and Pulumi projects): minutes, not seconds.
    {
      ...common,
      displayName: 'consumer',
      testMatch: ['<rootDir>/test/consumer/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'rig',
      ...rigTestRegex,
      testPathIgnorePatterns: [
        NODE_TESTS,
        ...withoutPulumiEngine,
        ...(lowkeyVaultBlocked() ? [LOWKEY_TESTS] : []),
      ],
      globalSetup: '<rootDir>/harness/rig/global-setup.ts',
      globalTeardown: '<rootDir>/harness/rig/global-teardown.ts',
    },
    {
      // A real node (containerd + kubelet) on a cluster of its own; started only when a test/node file runs.
      ...common,
      displayName: 'node',
      testMatch: ['<rootDir>/test/node/**/*.rig.test.ts'],
      globalSetup: '<rootDir>/harness/rig/node/global-setup.ts',
      globalTeardown: '<rootDir>/harness/rig/node/global-teardown.ts',
    },
  ],
};
