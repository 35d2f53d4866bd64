// `aks-secrets-store doctor`: walks the chain a Secrets Store mount depends on and says where it breaks.
// Read-only: it only GETs and LISTs. Exit codes: 0 healthy, 1 problem found, 2 could not check.
// It imports lib/core and the driver's Kubernetes client only (no gRPC, no Azure SDK), so it runs from
// the npm package as well as from the image.
import { parseArgs } from 'node:util';
import { PACKAGE_VERSION } from '../../lib/core/package-version';
import { KubeClient } from '../driver/cluster/kube/kube-client';
import { ClusterReader, CouldNotCheck } from './cluster-reader';
import { DoctorOptions, runDoctor } from './doctor';
import type { DoctorReport } from './findings';
import { findKubeConfig } from './kubeconfig';
import { renderText } from './render-text';
import { WORKLOAD_KINDS, WorkloadKind } from './targets';

export const DOCTOR_USAGE = `usage: aks-secrets-store doctor [<kind>/<name>] [flags]

Finds why a pod's Azure Key Vault (Secrets Store CSI) volume does not mount, or says it is healthy.
Read-only: it only reads the cluster (get/list). Exit code 0 healthy, 1 problem found, 2 could not check.

what to examine (default: every pod of the namespace with a Secrets Store volume):
  pod/<name>, deployment/<name>, statefulset/<name>, daemonset/<name>, secretproviderclass/<name>
  --pod <name>                      the same as pod/<name>
  --secret-provider-class <name>    a SecretProviderClass (with --pod: only that pod's volume of it)

flags:
  -n, --namespace <ns>              namespace of the pod or workload (default: the context's namespace)
      --install-namespace <ns>      where the driver and provider DaemonSets run (default: looked for everywhere)
      --kubeconfig <file>           kubeconfig (default: KUBECONFIG, ~/.kube/config, then in-cluster)
      --context <name>              kubeconfig context (default: the current context)
  -o, --output text|json            report format (default: text)
      --no-metrics                  do not read /metrics through the API server's pod proxy
  -h, --help
`;

const KIND_ALIASES: Record<string, WorkloadKind | 'pod' | 'secretproviderclass'> = {
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  spc: 'secretproviderclass',
  secretproviderclass: 'secretproviderclass',
  secretproviderclasses: 'secretproviderclass',
};

/** Bad command line: the message names the flag and the fix. */
export class UsageError extends Error {}

export interface DoctorCommand {
  readonly help: boolean;
  readonly output: 'text' | 'json';
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
  readonly installNamespace?: string;
  readonly pod?: string;
  readonly secretProviderClass?: string;
  readonly workload?: { kind: WorkloadKind; name: string };
  readonly probeMetrics: boolean;
}

export function parseDoctorArgs(args: readonly string[]): DoctorCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        pod: { type: 'string' },
        'secret-provider-class': { type: 'string' },
        spc: { type: 'string' },
        'install-namespace': { type: 'string' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        output: { type: 'string', short: 'o' },
        'no-metrics': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; see --help`);
  }
  const v = parsed.values;
  const output = v.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`--output ${output} is not a format; use text or json`);
  let pod = v.pod;
  let spc = v['secret-provider-class'] ?? v.spc;
  let workload: DoctorCommand['workload'];
  if (parsed.positionals.length > 1)
    throw new UsageError(`one target at a time (got ${parsed.positionals.join(' ')}); e.g. deployment/web`);
  const target = parsed.positionals[0];
  if (target !== undefined) {
    const slash = target.indexOf('/');
    const kind = KIND_ALIASES[target.slice(0, slash).toLowerCase()];
    const name = target.slice(slash + 1);
    if (slash < 1 || !kind || !name)
      throw new UsageError(
        `${JSON.stringify(target)} is not <kind>/<name>; use pod/, deployment/, statefulset/, daemonset/ or secretproviderclass/ followed by the name`,
      );
    if (kind === 'pod') pod = name;
    else if (kind === 'secretproviderclass') spc = name;
    else workload = { kind, name };
  }
  if (workload && pod) throw new UsageError('name a pod or a workload, not both');
  for (const [flag, value] of Object.entries({
    namespace: v.namespace,
    pod,
    'secret-provider-class': spc,
    'install-namespace': v['install-namespace'],
  })) {
    if (value !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value))
      throw new UsageError(
        `--${flag} ${JSON.stringify(value)} is not a Kubernetes name (lower-case letters, digits, '-' and '.')`,
      );
  }
  if (workload && !WORKLOAD_KINDS[workload.kind])
    throw new UsageError(`unknown workload kind ${workload.kind}`);
  return {
    help: v.help === true,
    output,
    kubeconfig: v.kubeconfig,
    context: v.context,
    namespace: v.namespace,
    installNamespace: v['install-namespace'],
    pod,
    secretProviderClass: spc,
    workload,
    probeMetrics: v['no-metrics'] !== true,
  };
}

function render(report: DoctorReport, output: 'text' | 'json'): string {
  return output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderText(report);
}

/** Runs the command; resolves with the exit code (the caller sets it). */
export async function doctorCommand(
  args: readonly string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let command: DoctorCommand;
  try {
    command = parseDoctorArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`aks-secrets-store doctor: ${err.message}\n`);
    return 2;
  }
  if (command.help) {
    out.write(DOCTOR_USAGE);
    return 0;
  }
  let client: KubeClient | undefined;
  try {
    const found = findKubeConfig({ kubeconfig: command.kubeconfig, context: command.context });
    client = new KubeClient(found.config, {
      userAgent: `aks-secrets-store-doctor/${PACKAGE_VERSION}`,
      requestTimeoutMs: 15_000,
      maxSockets: 8,
    });
    const reader = new ClusterReader(client);
    const options: DoctorOptions = {
      namespace: command.namespace ?? reader.defaultNamespace,
      pod: command.pod,
      secretProviderClass: command.secretProviderClass,
      workload: command.workload,
      installNamespace: command.installNamespace,
      probeMetrics: command.probeMetrics,
      kubeconfigSource: found.source,
    };
    const report = await runDoctor(reader, options);
    out.write(render(report, command.output));
    return report.exitCode;
  } catch (err) {
    if (!(err instanceof CouldNotCheck)) throw err;
    const report: DoctorReport = {
      target: {
        namespace: command.namespace ?? '',
        requested: '',
        pods: [],
        secretProviderClasses: [],
        nodes: [],
        server: '',
        kubeconfig: '',
      },
      result: 'could-not-check',
      exitCode: 2,
      findings: [
        {
          link: 'install',
          check: 'doctor.could-not-check',
          status: 'skipped',
          summary: err.message,
          fix: err.fix,
        },
      ],
      notChecked: [],
      mounted: [],
      apiRequests: 0,
    };
    out.write(render(report, command.output));
    return 2;
  } finally {
    client?.close();
  }
}

export async function main(args: readonly string[]): Promise<void> {
  try {
    process.exitCode = await doctorCommand(args);
  } catch (err) {
    // A failure of the doctor itself is "could not check", never "problem found".
    process.stderr.write(
      `aks-secrets-store doctor: could not check: ${(err as Error).stack ?? String(err)}\n`,
    );
    process.exitCode = 2;
  }
}
