// A real Pulumi engine for the rig tests: the CLI and the pulumi-kubernetes plugin that build.sh builds, driven
// through the Automation API with inline programs (no nodejs language host is served by the Go module proxy, and
// an inline program needs none: this process is the language host). Each stack has its own temp dir with a
// file:// backend and PULUMI_HOME, so nothing touches ~/.pulumi and runs never see each other's state.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  LocalWorkspace,
  PulumiCommand,
  PulumiFn,
  Stack,
  UpResult,
  PreviewResult,
  OpMap,
} from '@pulumi/pulumi/automation';
import { pulumiEngineBinaries } from './rig-env';

/** The passphrase of the throwaway stacks' secrets provider (state lives in a temp dir for one test). */
const PASSPHRASE = 'rig-only-passphrase';

export interface EngineStackProps {
  /** Project name: the `<project>` of every URN. */
  readonly project: string;
  /** Stack name. */
  readonly stack: string;
  /** The first program; later ones with {@link EngineStack.setProgram}. */
  readonly program: PulumiFn;
  /** Where preview/up output is written, one file per operation (kept when a test fails). */
  readonly artifactsDir: string;
  /**
   * Serve azure-native resources with harness/fakes/fake-arm-provider.ts (Azure state in a file of this stack).
   * @default false: a program with Azure resources then fails, as the real plugin is not there
   */
  readonly fakeAzure?: boolean;
}

/** What one `up` did: the engine's own counts per operation and its output. */
export interface EngineUp {
  readonly changes: OpMap;
  readonly outputs: UpResult['outputs'];
  readonly stdout: string;
}

/** One stack in the real engine, with its own backend and Pulumi home. */
export class EngineStack {
  private operation = 0;

  private constructor(
    private readonly stack: Stack,
    private readonly props: EngineStackProps,
    private readonly dir: string,
  ) {}

  static async create(props: EngineStackProps): Promise<EngineStack> {
    const engine = pulumiEngineBinaries();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-${props.stack}-`));
    // PulumiCommand.get({ root }) runs `<root>/bin/pulumi`; the rig cache holds the binary flat.
    const root = path.join(dir, 'cli');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.symlinkSync(engine.cli, path.join(root, 'bin', 'pulumi'));
    const pulumiCommand = await PulumiCommand.get({ root });
    const backend = path.join(dir, 'state');
    fs.mkdirSync(backend);
    const plugins = [path.dirname(engine.kubernetesPlugin)];
    if (props.fakeAzure) plugins.unshift(writeFakeAzurePlugin(path.join(dir, 'plugins')));
    fs.mkdirSync(props.artifactsDir, { recursive: true });
    const stack = await LocalWorkspace.createStack(
      { stackName: props.stack, projectName: props.project, program: props.program },
      {
        pulumiCommand,
        workDir: dir,
        pulumiHome: path.join(dir, 'home'),
        projectSettings: { name: props.project, runtime: 'nodejs', backend: { url: `file://${backend}` } },
        envVars: {
          PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
          PULUMI_SKIP_UPDATE_CHECK: 'true',
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
          // The provider plugin is found on PATH (an "ambient" plugin): the engine uses it for the version the
          // @pulumi/kubernetes SDK asks for, and never tries to download one.
          PATH: [...plugins, process.env.PATH ?? ''].join(path.delimiter),
          FAKE_ARM_STATE: path.join(dir, 'arm-state.json'),
        },
      },
    );
    return new EngineStack(stack, props, dir);
  }

  /** Replaces the program the next operation runs (the same stack, a new version of its code). */
  setProgram(program: PulumiFn): void {
    (this.stack.workspace as LocalWorkspace).program = program;
  }

  async up(label: string): Promise<EngineUp> {
    const out = this.output(`up-${label}`);
    try {
      const result = await this.stack.up({ onOutput: out.write, color: 'never' });
      return {
        changes: result.summary.resourceChanges ?? {},
        outputs: result.outputs,
        stdout: result.stdout,
      };
    } finally {
      out.close();
    }
  }

  async preview(label: string): Promise<PreviewResult> {
    const out = this.output(`preview-${label}`);
    try {
      return await this.stack.preview({ onOutput: out.write, color: 'never', diff: true });
    } finally {
      out.close();
    }
  }

  async destroy(label: string): Promise<OpMap> {
    const out = this.output(`destroy-${label}`);
    try {
      const result = await this.stack.destroy({ onOutput: out.write, color: 'never' });
      return result.summary.resourceChanges ?? {};
    } finally {
      out.close();
    }
  }

  /** URNs of the resources in the stack's state, with their types and parents. */
  async resources(): Promise<{ urn: string; type: string; parent?: string; id?: string }[]> {
    const state = await this.stack.exportStack();
    const resources = (state.deployment as { resources?: Record<string, string>[] }).resources ?? [];
    return resources.map((r) => ({ urn: r.urn, type: r.type, parent: r.parent, id: r.id }));
  }

  /** The fake Azure's resources by ARM id (with `fakeAzure`). */
  armState(): Record<string, { type: string; props: Record<string, unknown> }> {
    const file = path.join(this.dir, 'arm-state.json');
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  }

  /** Removes the temp dir (state, home); the artifacts stay. */
  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private output(name: string): { write: (text: string) => void; close: () => void } {
    this.operation += 1;
    const file = path.join(this.props.artifactsDir, `${String(this.operation).padStart(2, '0')}-${name}.txt`);
    const fd = fs.openSync(file, 'w');
    return { write: (text) => fs.writeSync(fd, text), close: () => fs.closeSync(fd) };
  }
}

/** Writes `pulumi-resource-azure-native`, which runs the fake provider with ts-node; returns its directory. */
function writeFakeAzurePlugin(dir: string): string {
  const repo = path.join(__dirname, '..', '..');
  const register = require.resolve('ts-node/register/transpile-only', { paths: [repo] });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'pulumi-resource-azure-native'),
    [
      '#!/bin/sh',
      `TS_NODE_PROJECT='${path.join(repo, 'tsconfig.json')}' exec node --require '${register}' '${path.join(repo, 'harness', 'fakes', 'fake-arm-provider.ts')}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return dir;
}
