import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { synthExamples } from '../../examples/cdk8s/app';
import { settingsFromEnv } from '../../examples/cdk8s/settings';
import { KubeObject, parseObjectsParameter } from '../../lib/core';
import {
  installedOf,
  installWithReadmeLine,
  packFromCleanCopy,
  readTree,
  REPO_ROOT,
  run,
  runForExit,
  tsc,
  writeProject,
} from './consumer-project';
import { readmeBlocks } from './readme-blocks';
import {
  CDK8S_INIT_DEV_TOOLS,
  CDK8S_INIT_TSCONFIG,
  PULUMI_NEW_DEV_TOOLS,
  PULUMI_NEW_NODENEXT_OPTIONS,
  PULUMI_NEW_TSCONFIG,
} from './templates';

// The package as a user gets it: `npm pack` from a clean copy of the repository, installed with the
// README's install line into fresh projects made the way `cdk8s init` and `pulumi new` make them, then
// the README's quickstarts and the examples, word for word, type-checked (node10, node16/nodenext,
// bundler) and run: synthesized (cdk8s) or run under Pulumi's mocks.

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests and mock inputs are untyped JSON */

const SETUP_TIMEOUT = 15 * 60_000;
const STEP_TIMEOUT = 5 * 60_000;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-ss-consumer-'));
// AKS_SS_KEEP_CONSUMER=1 keeps the projects for a look after a failure.
afterAll(() => {
  if (process.env.AKS_SS_KEEP_CONSUMER === '1') console.log(`consumer projects kept in ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
});

const readme = readmeBlocks(path.join(REPO_ROOT, 'README.md'));
let pack: { tarball: string; files: string[] };
beforeAll(() => {
  pack = packFromCleanCopy(work);
}, SETUP_TIMEOUT);

/** The examples/<dir> sources, by path relative to the repository (as a user would copy them). */
function exampleFiles(dir: string): Record<string, string> {
  const root = path.join(REPO_ROOT, 'examples', dir);
  return Object.fromEntries(
    fs
      .readdirSync(root)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => [`examples/${dir}/${file}`, fs.readFileSync(path.join(root, file), 'utf8')]),
  );
}

function manifests(dir: string): KubeObject[] {
  return Object.values(readTree(dir)).flatMap((text) =>
    parseAllDocuments(text).map((doc) => doc.toJS() as KubeObject),
  );
}

const RUNTIME_SDKS = [
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  '@azure/identity',
  '@azure/keyvault-secrets',
  'node-forge',
  'prom-client',
];

describe('the packed tarball', () => {
  test('ships the compiled constructs and nothing else of the repository', () => {
    for (const entry of ['core', 'cdk8s', 'pulumi']) {
      expect(pack.files).toContain(`build/lib/${entry}/index.js`);
      expect(pack.files).toContain(`build/lib/${entry}/index.d.ts`);
    }
    expect(pack.files.filter((file) => !file.startsWith('build/lib/'))).toEqual(
      expect.arrayContaining(['package.json', 'README.md']),
    );
    // Of the runtime, only the bin and what `aks-secrets-store doctor` loads (the driver and the
    // provider are the image's; test/runtime/doctor/doctor-imports.test.ts checks the list is complete).
    const doctorFiles = pack.files.filter((file) => file.startsWith('build/runtime/'));
    expect(doctorFiles).toEqual(
      expect.arrayContaining(['build/runtime/cli.js', 'build/runtime/doctor/main.js']),
    );
    expect(
      doctorFiles.filter(
        (file) =>
          file !== 'build/runtime/cli.js' &&
          !file.startsWith('build/runtime/doctor/') &&
          !file.startsWith('build/runtime/driver/cluster/kube/kube-'),
      ),
    ).toEqual([]);
    expect(doctorFiles.filter((file) => !file.endsWith('.js'))).toEqual([]);
    const strays = pack.files.filter(
      (file) =>
        !file.startsWith('build/lib/') &&
        !doctorFiles.includes(file) &&
        !['package.json', 'README.md', 'LICENSE'].includes(file),
    );
    expect(strays).toEqual([]);
    expect(pack.files.filter((file) => file.endsWith('.map'))).toEqual([]);
    // The Pulumi component package is source-based (added from the repository with `pulumi package add`):
    // its compiled entry point alone, without PulumiPlugin.yaml and the sources its schema comes from, serves nothing.
    expect(pack.files.filter((file) => file.includes('component-package'))).toEqual([]);
  });

  test('every export, typesVersions and bin target is a file in the tarball', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const targets: string[] = [pkg.main, pkg.types];
    for (const value of Object.values(pkg.exports as Record<string, string | Record<string, string>>)) {
      targets.push(...(typeof value === 'string' ? [value] : Object.values(value)));
    }
    for (const paths of Object.values(pkg.typesVersions['*'] as Record<string, string[]>))
      targets.push(...paths);
    targets.push(...Object.values(pkg.bin as Record<string, string>));
    const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !pack.files.includes(t));
    expect(missing).toEqual([]);
  });
});

describe('cdk8s project from `cdk8s init` (module CommonJS: node10 resolution)', () => {
  const dir = path.join(work, 'cdk8s-node10');
  beforeAll(() => {
    writeProject(dir, {
      'package.json': { name: 'cdk8s-app', version: '1.0.0', main: 'main.js', private: true },
      'tsconfig.json': CDK8S_INIT_TSCONFIG,
      // The same sources under the other resolutions a user's tsconfig may name (type-check only).
      'tsconfig.node16.json': {
        extends: './tsconfig.json',
        compilerOptions: { module: 'node16', moduleResolution: 'node16', noEmit: true },
      },
      'tsconfig.bundler.json': {
        extends: './tsconfig.json',
        compilerOptions: { module: 'esnext', moduleResolution: 'bundler', noEmit: true },
      },
      'main.ts': readme.get('cdk8s', 'main.ts'),
      ...exampleFiles('cdk8s'),
    });
    installWithReadmeLine(dir, readme.installPackages('cdk8s'), pack.tarball, CDK8S_INIT_DEV_TOOLS);
  }, SETUP_TIMEOUT);

  test('the README install line brings nothing of Pulumi or of the runtime', () => {
    expect(installedOf(dir, ['cdk8s', 'cdk8s-plus-33', 'constructs', 'aks-secrets-store'])).toHaveLength(4);
    expect(
      installedOf(dir, ['@pulumi/pulumi', '@pulumi/kubernetes', '@pulumi/azure-native', ...RUNTIME_SDKS]),
    ).toEqual([]);
  });

  test(
    'the README quickstart and examples/cdk8s type-check under node10, node16 and bundler resolution',
    () => {
      tsc(dir); // emits main.js and examples/cdk8s/*.js
      tsc(dir, 'tsconfig.node16.json');
      tsc(dir, 'tsconfig.bundler.json');
    },
    STEP_TIMEOUT,
  );

  test(
    'the quickstart synthesizes a pod with the volume, mount, identity and env var it needs',
    () => {
      run(dir, process.execPath, ['main.js']);
      const objects = manifests(path.join(dir, 'dist'));
      const pod = objects.find((o) => o.kind === 'Pod') as any;
      const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'app-secrets') as any;
      const spc = objects.find((o) => o.kind === 'SecretProviderClass') as any;
      expect(pod.metadata).toMatchObject({ name: 'busybox-secrets-store-inline', namespace: 'default' });
      expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
      expect(pod.spec.serviceAccountName).toBe('app-secrets');
      expect(sa.metadata.annotations['azure.workload.identity/client-id']).toBe(
        '11111111-1111-1111-1111-111111111111',
      );
      // busybox runs as root: neither the pod nor the container may demand runAsNonRoot.
      expect(pod.spec.securityContext.runAsNonRoot).toBe(false);
      const [container] = pod.spec.containers;
      expect(container.securityContext.runAsNonRoot).toBe(false);
      expect(pod.spec.volumes).toEqual([
        {
          name: expect.any(String),
          csi: {
            driver: 'secrets-store.csi.k8s.io',
            readOnly: true,
            volumeAttributes: { secretProviderClass: spc.metadata.name },
          },
        },
      ]);
      expect(container.volumeMounts).toEqual([
        { name: pod.spec.volumes[0].name, mountPath: '/mnt/secrets-store', readOnly: true },
      ]);
      expect(container.env).toContainEqual({
        name: 'SECRET_USERNAME',
        valueFrom: { secretKeyRef: { name: 'foosecret', key: 'username' } },
      });
      expect(spc.metadata.namespace).toBe('default');
      expect(spc.spec.parameters.clientID).toBe('11111111-1111-1111-1111-111111111111');
      expect(parseObjectsParameter(spc.spec.parameters.objects).map((o) => o.objectName)).toEqual(['foo1']);
      expect(spc.spec.secretObjects).toEqual([
        { secretName: 'foosecret', type: 'Opaque', data: [{ objectName: 'foo1', key: 'username' }] },
      ]);
      // Until the first release the quickstart runs the upstream images, which exist.
      const daemonSetImages = objects
        .filter((o) => o.kind === 'DaemonSet')
        .flatMap((o: any) => o.spec.template.spec.containers.map((c: any) => c.image as string));
      expect(daemonSetImages.filter((image) => image.startsWith('ghcr.io/aks-secrets-store/'))).toEqual([]);
      expect(daemonSetImages).toContain('registry.k8s.io/csi-secrets-store/driver:v1.6.0');
    },
    STEP_TIMEOUT,
  );

  // The doctor from the construct install alone (no runtime dependencies): its help, then a cluster
  // that answers nothing, which is "could not check" (exit 2), never a crash or "problem found".
  test('`npx aks-secrets-store doctor` runs from this install: --help, and exit 2 with no reachable cluster', () => {
    const help = runForExit(dir, 'npx', ['--no', 'aks-secrets-store', 'doctor', '--help']);
    expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: aks-secrets-store doctor /);
    expect(help.stdout).toContain('--output text|json');

    const kubeconfig = path.join(dir, 'unreachable.kubeconfig');
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: none, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: none, user: {token: not-a-token}}]',
        'contexts: [{name: none, context: {cluster: none, user: none, namespace: default}}]',
        'current-context: none',
        '',
      ].join('\n'),
    );
    const unreachable = runForExit(dir, 'npx', ['--no', 'aks-secrets-store', 'doctor', '-o', 'json'], {
      KUBECONFIG: kubeconfig,
    });
    expect({ status: unreachable.status, stderr: unreachable.stderr }).toEqual({ status: 2, stderr: '' });
    expect(JSON.parse(unreachable.stdout)).toMatchObject({ result: 'could-not-check', exitCode: 2 });

    // The driver and the provider are the image's: a clear refusal, not a missing-module stack.
    const driver = runForExit(dir, 'npx', ['--no', 'aks-secrets-store', 'driver', '--help']);
    expect(driver.status).toBe(2);
    expect(driver.stderr).toContain('the npm package ships the doctor only');
  });

  test(
    'examples/cdk8s, copied as they are, synthesize the same manifests as from the repository sources',
    () => {
      const out = path.join(dir, 'example-run');
      fs.mkdirSync(out);
      run(out, process.execPath, [path.join(dir, 'examples/cdk8s/main.js')]);
      const fromSources = path.join(work, 'examples-from-sources');
      synthExamples(fromSources, settingsFromEnv({}));
      const consumer = readTree(path.join(out, 'dist'));
      expect(Object.keys(consumer).sort()).toEqual(Object.keys(readTree(fromSources)).sort());
      expect(consumer).toEqual(readTree(fromSources));
    },
    STEP_TIMEOUT,
  );
});

describe('cdk8s project in ESM with nodenext resolution', () => {
  const dir = path.join(work, 'cdk8s-nodenext');
  // A current Node project: its own TypeScript and Node 20 typings (the default lib includes the DOM's).
  const ESM_DEV_TOOLS = ['typescript@5.9.x', '@types/node@^20'];
  beforeAll(() => {
    writeProject(dir, {
      'package.json': { name: 'cdk8s-esm-app', version: '1.0.0', private: true, type: 'module' },
      'tsconfig.json': {
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          types: ['node'],
        },
        include: ['**/*.ts'],
        exclude: ['node_modules'],
      },
      'main.ts': readme.get('cdk8s', 'main.ts'),
      // The examples import their siblings without extensions, as CommonJS does: a CommonJS folder.
      'examples/cdk8s/package.json': { type: 'commonjs' },
      ...exampleFiles('cdk8s'),
    });
    installWithReadmeLine(dir, readme.installPackages('cdk8s'), pack.tarball, ESM_DEV_TOOLS);
  }, SETUP_TIMEOUT);

  test(
    'the README quickstart type-checks, runs as an ES module and writes what the CommonJS project wrote',
    () => {
      tsc(dir);
      run(dir, process.execPath, ['main.js']);
      expect(readTree(path.join(dir, 'dist'))).toEqual(readTree(path.join(work, 'cdk8s-node10', 'dist')));
    },
    STEP_TIMEOUT,
  );
});

describe('Pulumi project from `pulumi new typescript` (moduleResolution node)', () => {
  const dir = path.join(work, 'pulumi');
  const PROGRAMS = ['index.ts', 'example/index.ts'];
  beforeAll(() => {
    writeProject(dir, {
      'package.json': { name: 'pulumi-app', main: 'index.ts' },
      'tsconfig.json': PULUMI_NEW_TSCONFIG,
      // The template's options on the example and the mock runner too (one compiler run emits all three).
      'tsconfig.all.json': { extends: './tsconfig.json', files: [...PROGRAMS, 'pulumi-mock-run.ts'] },
      'tsconfig.nodenext.json': {
        extends: './tsconfig.json',
        compilerOptions: { ...PULUMI_NEW_NODENEXT_OPTIONS, noEmit: true },
        files: PROGRAMS,
      },
      'index.ts': readme.get('pulumi', 'index.ts'),
      'example/index.ts': fs.readFileSync(path.join(REPO_ROOT, 'examples/pulumi/index.ts'), 'utf8'),
      'pulumi-mock-run.ts': fs.readFileSync(path.join(__dirname, 'pulumi-mock-run.ts'), 'utf8'),
    });
    installWithReadmeLine(dir, readme.installPackages('pulumi'), pack.tarball, PULUMI_NEW_DEV_TOOLS);
  }, SETUP_TIMEOUT);

  /** Runs a compiled program under the mocks; returns what it registered. */
  function underMocks(program: string, project: string): { tenantId: string; registered: any[] } {
    const report = path.join(dir, `${project}-report.json`);
    run(dir, process.execPath, [
      'bin/pulumi-mock-run.js',
      program,
      report,
      project,
      `${project}:dbPassword=not-a-real-password`,
    ]);
    return JSON.parse(fs.readFileSync(report, 'utf8'));
  }
  const ofType = (registered: any[], type: string): any[] => registered.filter((r) => r.type === type);

  test('the README install line brings nothing of cdk8s or of the runtime', () => {
    expect(
      installedOf(dir, ['@pulumi/pulumi', '@pulumi/kubernetes', '@pulumi/azure-native', 'aks-secrets-store']),
    ).toHaveLength(4);
    // @grpc/grpc-js is Pulumi's own dependency; the runtime's Azure SDKs and the rest are not.
    expect(
      installedOf(dir, [
        'cdk8s',
        'cdk8s-plus-33',
        'constructs',
        ...RUNTIME_SDKS.filter((n) => !n.startsWith('@grpc/')),
      ]),
    ).toEqual([]);
  });

  test(
    'the README quickstart and examples/pulumi type-check under the template tsconfig (node) and under nodenext',
    () => {
      tsc(dir, 'tsconfig.all.json'); // emits bin/index.js, bin/example/index.js, bin/pulumi-mock-run.js
      tsc(dir, 'tsconfig.nodenext.json');
    },
    STEP_TIMEOUT,
  );

  test(
    'the quickstart under mocks: SecretStore with its identity, federated credential, role, SPC, ServiceAccount and a Deployment',
    () => {
      const { tenantId, registered } = underMocks('bin/index.js', 'quickstart');
      const [identity] = ofType(registered, 'azure-native:managedidentity:UserAssignedIdentity');
      const [cluster] = ofType(registered, 'azure-native:containerservice:ManagedCluster');
      const [federated] = ofType(registered, 'azure-native:managedidentity:FederatedIdentityCredential');
      const [spc] = ofType(registered, 'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass');
      const [sa] = ofType(registered, 'kubernetes:core/v1:ServiceAccount');
      const [deployment] = ofType(registered, 'kubernetes:apps/v1:Deployment');
      const [vault] = ofType(registered, 'azure-native:keyvault:Vault');
      expect(ofType(registered, 'aks-secrets-store:index:SecretStore')).toHaveLength(1);
      expect(cluster.inputs.addonProfiles.azureKeyvaultSecretsProvider).toMatchObject({
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
      });
      expect(federated.inputs).toMatchObject({
        issuer: 'https://oidc.example/aks/',
        subject: `system:serviceaccount:default:${sa.inputs.metadata.name}`,
      });
      const identityClientId = sa.inputs.metadata.annotations['azure.workload.identity/client-id'];
      expect(identityClientId).toMatch(/^[0-9a-f-]{36}$/);
      expect(spc.inputs.metadata.namespace).toBe('default');
      expect(spc.inputs.spec.parameters).toMatchObject({ clientID: identityClientId, tenantId });
      expect(parseObjectsParameter(spc.inputs.spec.parameters.objects).map((o) => o.objectName)).toEqual([
        'db-password',
      ]);
      const roles = ofType(registered, 'azure-native:authorization:RoleAssignment');
      expect(roles.length).toBeGreaterThan(0);
      expect(roles.every((r) => r.inputs.scope === vault.id)).toBe(true);
      expect(identity).toBeDefined();
      const podSpec = deployment.inputs.spec.template.spec;
      expect(podSpec.serviceAccountName).toBe(sa.inputs.metadata.name);
      expect(deployment.inputs.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
      expect(podSpec.volumes[0].csi).toMatchObject({
        driver: 'secrets-store.csi.k8s.io',
        readOnly: true,
        volumeAttributes: { secretProviderClass: spc.inputs.metadata.name },
      });
      expect(podSpec.containers[0].env).toContainEqual({
        name: 'DB_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'app-db', key: 'password' } },
      });
    },
    STEP_TIMEOUT,
  );

  test(
    "examples/pulumi, copied as it is, runs under mocks with the add-on and the orders team's store",
    () => {
      const { registered } = underMocks('bin/example/index.js', 'example');
      expect(ofType(registered, 'aks-secrets-store:index:SecretStore').map((r) => r.name)).toEqual([
        'orders',
      ]);
      const [cluster] = ofType(registered, 'azure-native:containerservice:ManagedCluster');
      expect(cluster.inputs.addonProfiles.azureKeyvaultSecretsProvider).toMatchObject({
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
      });
      const [spc] = ofType(registered, 'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass');
      expect(spc.inputs.metadata.namespace).toBe('orders');
      expect(ofType(registered, 'kubernetes:apps/v1:Deployment').map((r) => r.name)).toEqual(['orders']);
    },
    STEP_TIMEOUT,
  );
});
