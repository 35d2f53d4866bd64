// Runs the doctor as users do: the compiled bin (`aks-secrets-store doctor ...`) in its own process,
// against a kubeconfig, with its exit code, its JSON report and its text report.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DoctorReport, Finding } from '../../../../runtime/doctor/findings';
import { rig } from '../../../../harness/rig/rig-env';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const CLI = path.join(REPO_ROOT, 'build', 'runtime', 'cli.js');

export interface DoctorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DoctorJsonRun extends DoctorRun {
  readonly report: DoctorReport;
}

function spawnDoctor(args: readonly string[], env: NodeJS.ProcessEnv): Promise<DoctorRun> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'doctor', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `doctor <args> --output json` with the rig's admin kubeconfig unless `kubeconfig` says otherwise. */
export async function doctorJson(
  args: readonly string[],
  kubeconfig = rig().kubeconfig,
): Promise<DoctorJsonRun> {
  const run = await spawnDoctor([...args, '--output', 'json'], { KUBECONFIG: kubeconfig });
  let report: DoctorReport;
  try {
    report = JSON.parse(run.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor printed no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { ...run, report };
}

/** `doctor <args>` (the text report). */
export function doctorText(args: readonly string[], kubeconfig = rig().kubeconfig): Promise<DoctorRun> {
  return spawnDoctor(args, { KUBECONFIG: kubeconfig });
}

/** The first problem, with the report in the failure message when there is none. */
export function firstProblem(run: DoctorJsonRun): Finding {
  if (!run.report.firstProblem)
    throw new Error(
      `expected a problem, the doctor said ${run.report.result}:\n${JSON.stringify(run.report.findings, null, 2)}`,
    );
  return run.report.firstProblem;
}

/** What a scenario test asserts of the first problem, shown whole when it differs. */
export function summaryOf(f: Finding): Record<string, unknown> {
  return {
    check: f.check,
    link: f.link,
    summary: f.summary,
    cause: f.cause,
    fix: f.fix,
    field: f.field,
    message: f.message,
    catalogueId: f.catalogueId,
  };
}
