// Child processes of the rig: each runs in its own process group (so a stop reaches anything it forked),
// logs to a file, and is listed in a pid file so a later run can kill what a killed run left behind.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { rigCacheDir } from './rig-env';

export interface RigProcess {
  /** Short name, also the log file's base name. */
  readonly name: string;
  readonly pid: number;
  readonly binary: string;
  readonly logFile: string;
  readonly child: ChildProcess;
}

export interface SpawnProps {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Directory that receives `<name>.log` (stdout and stderr). */
  readonly logDir: string;
  /** Extra environment for the child. @default none (the parent's environment is inherited) */
  readonly env?: Readonly<Record<string, string>>;
}

/** A free TCP port on 127.0.0.1 (bound then released, so two runs on one machine do not collide). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Where pid files of running (and killed) runs are kept. */
export function rigRunDir(): string {
  return path.join(path.dirname(rigCacheDir()), 'rig-run');
}

/** This jest process's pid file: which children it started, so a later run can reap them. */
function pidFilePath(ownerPid = process.pid): string {
  return path.join(rigRunDir(), `${ownerPid}.json`);
}

interface PidFileEntry {
  readonly pid: number;
  readonly name: string;
  readonly binary: string;
}

interface PidFile {
  readonly ownerPid: number;
  /** The owner's start time (/proc/<pid>/stat field 22), so a reused pid is not taken for the owner. */
  readonly ownerStartTime: string;
  readonly children: PidFileEntry[];
}

function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; starttime is field 22 overall.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readPidFile(file: string): PidFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PidFile;
  } catch {
    return undefined;
  }
}

function recordChild(entry: PidFileEntry): void {
  fs.mkdirSync(rigRunDir(), { recursive: true });
  const file = pidFilePath();
  const current = readPidFile(file) ?? {
    ownerPid: process.pid,
    ownerStartTime: startTime(process.pid) ?? '',
    children: [],
  };
  fs.writeFileSync(file, JSON.stringify({ ...current, children: [...current.children, entry] }));
}

function forgetChild(pid: number): void {
  const file = pidFilePath();
  const current = readPidFile(file);
  if (!current) return;
  const children = current.children.filter((entry) => entry.pid !== pid);
  if (children.length === 0) fs.rmSync(file, { force: true });
  else fs.writeFileSync(file, JSON.stringify({ ...current, children }));
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** True while any process of the group exists (zombies included: they are not reaped yet). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandLineStartsWith(pid: number, binary: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === binary;
  } catch {
    return false;
  }
}

/**
 * Kills the children of earlier runs whose jest process is gone (killed before its teardown ran). A child
 * is killed only if its command line is still the recorded binary, so a reused pid is left alone.
 * Returns the pids it killed.
 */
export function reapLeftovers(): number[] {
  if (!fs.existsSync(rigRunDir())) return [];
  const killed: number[] = [];
  for (const name of fs.readdirSync(rigRunDir())) {
    const file = path.join(rigRunDir(), name);
    const record = readPidFile(file);
    // Not a process record (e.g. a directory of other records): not ours to reap.
    if (!record || !Array.isArray(record.children)) continue;
    const ownerRunning = isAlive(record.ownerPid) && startTime(record.ownerPid) === record.ownerStartTime;
    if (ownerRunning) continue;
    for (const child of record.children) {
      if (isAlive(child.pid) && commandLineStartsWith(child.pid, child.binary)) {
        try {
          process.kill(-child.pid, 'SIGKILL');
          killed.push(child.pid);
        } catch {
          // Already gone between the check and the kill.
        }
      }
    }
    fs.rmSync(file, { force: true });
  }
  return killed;
}

/** Starts a binary in its own process group, logging to `<logDir>/<name>.log`. */
export function spawnLogged(props: SpawnProps): RigProcess {
  const logFile = path.join(props.logDir, `${props.name}.log`);
  const log = fs.openSync(logFile, 'a');
  const child = spawn(props.binary, [...props.args], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...props.env },
  });
  fs.closeSync(log);
  if (child.pid === undefined)
    throw new Error(`${props.name}: could not start ${props.binary} (see ${logFile})`);
  // Detached children must not keep jest's event loop alive.
  child.unref();
  recordChild({ pid: child.pid, name: props.name, binary: props.binary });
  return { name: props.name, pid: child.pid, binary: props.binary, logFile, child };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Stops the process group: SIGTERM, then SIGKILL after graceMs, and waits (bounded) until the group is gone.
 */
export async function stopProcess(proc: RigProcess, graceMs = 5000): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (!exited(proc.child) || groupExists(proc.pid))) await sleep(50);
  if (!exited(proc.child) || groupExists(proc.pid)) {
    signalGroup('SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && (!exited(proc.child) || groupExists(proc.pid))) await sleep(50);
  }
  forgetChild(proc.pid);
}

/** Synchronous last resort (signal handlers, 'exit'): SIGKILL every group, no waiting. */
export function killNow(procs: readonly RigProcess[]): void {
  for (const proc of procs) {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    forgetChild(proc.pid);
  }
}

/** The last lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 30): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface WaitProps {
  /** What is awaited, for the error message. */
  readonly what: string;
  readonly timeoutMs: number;
  /** @default 250 */
  readonly intervalMs?: number;
  /** Fail at once (with its log) if this process exits while waiting. */
  readonly process?: RigProcess;
}

/** Polls `check` until it returns true, within a bounded time; the error carries the last failure and log. */
export async function waitUntil(check: () => Promise<boolean>, props: WaitProps): Promise<void> {
  const deadline = Date.now() + props.timeoutMs;
  let lastError = 'not ready';
  for (;;) {
    if (props.process && exited(props.process.child)) {
      throw new Error(
        `${props.what}: ${props.process.name} exited (code ${props.process.child.exitCode}, signal ` +
          `${props.process.child.signalCode}). Log ${props.process.logFile}:\n${logTail(props.process.logFile)}`,
      );
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      const log = props.process ? ` Log ${props.process.logFile}:\n${logTail(props.process.logFile)}` : '';
      throw new Error(`${props.what}: not ready within ${props.timeoutMs} ms (last: ${lastError}).${log}`);
    }
    await sleep(props.intervalMs ?? 250);
  }
}
