// The report for a person: what was examined, each link with what is fine, the first broken link with
// its cause, fix and the command that shows the evidence, and what was not checked because of it.
import { DoctorReport, Finding, FindingStatus, LINK_TITLES, LINKS, safeText } from './findings';

const MARK: Record<FindingStatus, string> = {
  ok: '[ok]     ',
  problem: '[PROBLEM]',
  warning: '[warning]',
  info: '[info]   ',
  skipped: '[skipped]',
};

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? line : `${prefix}${line}`))
    .join('\n');
}

function renderFinding(f: Finding, lines: string[]): void {
  lines.push(`  ${MARK[f.status]} ${safeText(f.summary)}`);
  const pad = '              ';
  if (f.field && f.status === 'problem') lines.push(`      field:    ${safeText(f.field)}`);
  if (f.message) lines.push(`      message:  ${indent(safeText(f.message), pad)}`);
  if (f.cause) lines.push(`      cause:    ${indent(safeText(f.cause), pad)}`);
  if (f.fix) lines.push(`      fix:      ${indent(safeText(f.fix), pad)}`);
  if (f.evidence && f.status !== 'ok') lines.push(`      evidence: ${indent(safeText(f.evidence), pad)}`);
  else if (f.evidence && f.check.startsWith('metrics.'))
    lines.push(`      read it:  ${safeText(f.evidence)}`);
}

export function renderText(report: DoctorReport): string {
  const t = report.target;
  const lines: string[] = [];
  const stop = report.findings.find((f) => f.check === 'doctor.could-not-check');
  lines.push(
    `aks-secrets-store doctor: ${safeText(t.requested || 'could not start')}${t.namespace ? ` in namespace ${safeText(t.namespace)}` : ''}`,
  );
  if (t.server) lines.push(`  cluster ${safeText(t.server)} (${safeText(t.kubeconfig)})`);
  if (t.pods.length)
    lines.push(
      `  pods: ${t.pods.map((p) => safeText(p)).join(', ')}${t.nodes.length ? ` on ${t.nodes.map((n) => safeText(n)).join(', ')}` : ''}`,
    );
  if (t.install) lines.push(`  install: ${t.install}`);
  for (const link of LINKS) {
    const of = report.findings.filter((f) => f.link === link && f !== stop);
    if (of.length === 0) continue;
    lines.push('', LINK_TITLES[link]);
    for (const f of of) renderFinding(f, lines);
  }
  if (report.notChecked.length) {
    lines.push(
      '',
      `not checked (fix the problem above first): ${report.notChecked.map((l) => LINK_TITLES[l]).join('; ')}`,
    );
  }
  lines.push('');
  switch (report.result) {
    case 'healthy': {
      const warnings = report.findings.filter((f) => f.status === 'warning').length;
      lines.push(
        `result: healthy${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}; exit 0`,
      );
      break;
    }
    case 'problem':
      lines.push(`result: problem found; exit 1: ${safeText(report.firstProblem!.summary)}`);
      break;
    case 'could-not-check':
      lines.push(`could not check: ${safeText(stop?.summary ?? 'unknown reason')}`);
      if (stop?.fix) lines.push(`  fix: ${safeText(stop.fix)}`);
      lines.push('result: could not check; exit 2');
      break;
  }
  lines.push(`(${report.apiRequests} read-only API requests)`);
  return `${lines.join('\n')}\n`;
}
