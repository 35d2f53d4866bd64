// The project files the frameworks' generators write for a new user, as the consumer projects start
// from: `cdk8s init typescript-app` (cdk8s-cli 2.207) and `pulumi new typescript` (pulumi/templates).
// Only their compiler settings and dev tools matter here; the dependencies come from the README.

/** tsconfig.json of `cdk8s init typescript-app`: module CommonJS with no moduleResolution, i.e. node10. */
export const CDK8S_INIT_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    inlineSourceMap: true,
    inlineSources: true,
    lib: ['es2016'],
    module: 'CommonJS',
    noEmit: false,
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: 'ES2017',
  },
  include: ['**/*.ts'],
  exclude: ['node_modules'],
};

/** Dev tools `cdk8s init typescript-app` installs that type-checking and running need. */
export const CDK8S_INIT_DEV_TOOLS = ['typescript@5.9.x', '@types/node@^14'];

/**
 * tsconfig.json of `pulumi new typescript` as it was generated until March 2026 (and still is in every
 * project made before): module commonjs, moduleResolution node.
 */
export const PULUMI_NEW_TSCONFIG = {
  compilerOptions: {
    strict: true,
    outDir: 'bin',
    target: 'es2020',
    module: 'commonjs',
    moduleResolution: 'node',
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
  },
  files: ['index.ts'],
};

/** What `pulumi new typescript` generates since March 2026: the same with nodenext. */
export const PULUMI_NEW_NODENEXT_OPTIONS = { module: 'nodenext', moduleResolution: 'nodenext' };

/** Dev tools of `pulumi new typescript`. */
export const PULUMI_NEW_DEV_TOOLS = ['typescript@^5.0.0', '@types/node@^18'];
