// What the doctor found: one finding per check, in the order of the chain a mount depends on, and the
// report both renderings (text for a person, JSON for scripts) are made from.

/** The links of the chain, in the order a mount needs them. */
export const LINKS = ['install', 'secret-provider-class', 'pod', 'metrics'] as const;
export type Link = (typeof LINKS)[number];

/** Human names of the links. */
export const LINK_TITLES: Record<Link, string> = {
  install: 'install (CSIDriver, driver and provider on the node)',
  'secret-provider-class': 'SecretProviderClass (exists, valid, identity, synced Secrets)',
  pod: 'pod (mount events, SecretProviderClassPodStatus)',
  metrics: 'metrics',
};

/**
 * ok: checked and fine. problem: this link is broken (the walk stops here). warning: worth knowing, the
 * mount may still work. info: facts (what is mounted, how to look further). skipped: could not be checked
 * here, with why.
 */
export type FindingStatus = 'ok' | 'problem' | 'warning' | 'info' | 'skipped';

export interface Finding {
  readonly link: Link;
  /** Stable id of the check, e.g. `install.csidriver.token-requests`. */
  readonly check: string;
  readonly status: FindingStatus;
  /** One line. */
  readonly summary: string;
  /** Why this is a problem. */
  readonly cause?: string;
  /** What to change. */
  readonly fix?: string;
  /** A command that shows the evidence. */
  readonly evidence?: string;
  /** The object field at fault, e.g. `spec.parameters.objects[0].objectAlias`. */
  readonly field?: string;
  /** The failure text this finding is about (an event's message), as the cluster has it. */
  readonly message?: string;
  /** The failure catalogue entry the message matched. */
  readonly catalogueId?: string;
}

/** What the doctor examined. */
export interface ReportTarget {
  readonly namespace: string;
  /** What the user asked for, e.g. `pod/web-0`, `deployment/web`, `secretproviderclass/app`. */
  readonly requested: string;
  readonly pods: readonly string[];
  readonly secretProviderClasses: readonly string[];
  readonly nodes: readonly string[];
  /** e.g. `self-hosted (this package)`, `AKS add-on`, `upstream chart`. */
  readonly install?: string;
  readonly server: string;
  readonly kubeconfig: string;
}

/** Objects and versions a pod's volume has mounted (from its SecretProviderClassPodStatus). */
export interface MountedVolume {
  readonly pod: string;
  readonly secretProviderClass: string;
  readonly objects: ReadonlyArray<{ readonly id: string; readonly version: string }>;
}

export type ReportResult = 'healthy' | 'problem' | 'could-not-check';

export interface DoctorReport {
  readonly target: ReportTarget;
  readonly result: ReportResult;
  /** 0 healthy, 1 problem found, 2 could not check. */
  readonly exitCode: 0 | 1 | 2;
  readonly findings: readonly Finding[];
  /** The first broken link, when there is one. */
  readonly firstProblem?: Finding;
  /** Links the walk did not reach because an earlier one is broken. */
  readonly notChecked: readonly Link[];
  readonly mounted: readonly MountedVolume[];
  /** GET/LIST requests the doctor made (it makes no other). */
  readonly apiRequests: number;
}

/** Collects findings; `stopped` once a problem is recorded. */
export class Findings {
  private readonly list: Finding[] = [];

  add(finding: Finding): void {
    this.list.push(finding);
  }

  get all(): readonly Finding[] {
    return this.list;
  }

  get firstProblem(): Finding | undefined {
    return this.list.find((f) => f.status === 'problem');
  }

  get stopped(): boolean {
    return this.firstProblem !== undefined;
  }
}

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides (which reorder text).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Control characters (ANSI escapes) replaced and length bounded: text from the cluster (event messages,
 * names) is written by anyone who can create an Event, and must not drive the reader's terminal.
 */
export function safeText(text: string, max = 2000): string {
  const clean = text.replace(/\r\n?/g, '\n').replace(UNSAFE, '?');
  return clean.length > max ? `${clean.slice(0, max)}… (${clean.length - max} more characters)` : clean;
}

// A JWT (service-account token, Entra token) in a message is replaced: an upstream error may echo one.
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g;

/** `safeText`, and any bearer token in it replaced. */
export function safeMessage(text: string, max = 2000): string {
  return safeText(text.replace(JWT, '<token removed>'), max);
}
