// Two projects: "unit" needs nothing but Node; "rig" (files named *.rig.test.ts) runs against the real
// components started once by test/rig/global-setup.ts (kube-apiserver, etcd, lowkey-vault, ...).
// isolatedModules comes from tsconfig.json (ts-jest then transpiles per file); types are checked once by tsc --noEmit.
const tsJest = ['ts-jest', { diagnostics: false }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
  roots: ['<rootDir>/test'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['\\.rig\\.test\\.ts$'] },
    {
      ...common,
      displayName: 'rig',
      testMatch: ['**/*.rig.test.ts'],
      globalSetup: '<rootDir>/test/rig/global-setup.ts',
      globalTeardown: '<rootDir>/test/rig/global-teardown.ts',
    },
  ],
};
