// mount and umount run through one long-lived /bin/sh instead of a Node spawn each. A spawn forks the
// whole Node process and blocks the event loop until the child has exec'd (2-3 ms per call at no load on
// Node 24, 10-16 ms at load 18 on the 2-core bench machine); a shell that is already running forks small.
//
// No argument is ever parsed by the shell: each command's argv is written one word per line to a file of
// this process's private directory; the shell reads each line raw (`IFS= read -r`) into a variable and
// runs `"$@"`, which hands the words to exec exactly as written. The line the shell reads is fixed text
// around a sequence number. Words holding a newline or NUL are refused before anything is written. Each
// command runs in the background, so a hung mount never holds up the others; one that has not answered in
// time is killed (its process and the shell's subshell around it) and fails.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Options of a CommandShell. */
export interface CommandShellProps {
  /** @default '/bin/sh' */
  readonly shell?: string;
  /** A command still running after this long is killed and fails. @default 60000 */
  readonly timeoutMs?: number;
  /** Where the argument and output files go (a private directory is made inside). @default os.tmpdir() */
  readonly tmpDir?: string;
}

interface Pending {
  readonly what: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  /** The shell's background subshell running the command, once the shell has said it. */
  pid?: number;
}

/** Characters a directory may hold to be written into the shell's input (it is quoted as well). */
const PLAIN_PATH = /^[A-Za-z0-9._/-]+$/;

export class CommandShell {
  private readonly shellPath: string;
  private readonly timeoutMs: number;
  private readonly tmpDir: string;
  private readonly marker = `__aks_secrets_store_done_${randomBytes(16).toString('hex')}`;
  private dir?: string;
  private child?: ChildProcessWithoutNullStreams;
  private output = '';
  private sequence = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(props: CommandShellProps = {}) {
    this.shellPath = props.shell ?? '/bin/sh';
    this.timeoutMs = props.timeoutMs ?? 60_000;
    this.tmpDir = props.tmpDir ?? os.tmpdir();
  }

  /**
   * Runs `command args...` (looked up on PATH, as a spawn does); rejects with
   * `<command> <args> failed: <its output, or the exit status>`.
   */
  run(command: string, args: readonly string[]): Promise<void> {
    const argv = [command, ...args];
    const what = argv.join(' ');
    if (argv.some((word) => word.includes('\0') || word.includes('\n')))
      return Promise.reject(
        new Error(`${JSON.stringify(what).slice(1, -1)} failed: an argument holds a newline or NUL byte`),
      );
    return new Promise<void>((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      let dir: string;
      const id = ++this.sequence;
      try {
        dir = this.privateDir();
        fs.writeFileSync(path.join(dir, `${id}.args`), argv.map((word) => `${word}\n`).join(''), {
          mode: 0o600,
        });
        child = this.shellProcess();
      } catch (err) {
        reject(new Error(`${what} failed: ${(err as Error).message}`));
        return;
      }
      const timer = setTimeout(() => this.timedOut(id), this.timeoutMs);
      timer.unref();
      this.pending.set(id, { what, resolve, reject, timer });
      this.setHeld(child, true);
      const file = (suffix: string) => shellQuote(path.join(dir, `${id}${suffix}`));
      child.stdin.write(
        `{ set --; while IFS= read -r w; do set -- "$@" "$w"; done <${file('.args')};` +
          ` "$@" </dev/null >${file('.out')} 2>&1; printf '%s %d %d\\n' ${this.marker} ${id} $?; } &` +
          ` printf '%s %d pid %d\\n' ${this.marker} ${id} $!\n`,
      );
    });
  }

  /** Stops the shell; commands still waiting fail. */
  close(): void {
    if (this.child) this.replace(this.child, 'the command shell was closed');
  }

  private privateDir(): string {
    if (this.dir && fs.existsSync(this.dir)) return this.dir;
    const dir = fs.mkdtempSync(path.join(this.tmpDir, 'aks-secrets-store-commands-'));
    if (!PLAIN_PATH.test(dir)) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `the command directory ${JSON.stringify(dir)} holds characters other than A-Z a-z 0-9 . _ / -`,
      );
    }
    this.dir = dir;
    return dir;
  }

  private shellProcess(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(this.shellPath, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onOutput(child, chunk));
    let shellErrors = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (shellErrors = (shellErrors + chunk).slice(-2000)));
    child.stdin.on('error', () => undefined); // the exit handler below reports a dead shell
    child.on('error', (err) =>
      this.replace(child, `the command shell ${this.shellPath} failed: ${err.message}`),
    );
    child.on('exit', (code, signal) =>
      this.replace(
        child,
        `the command shell exited (${signal ?? `status ${code}`})${shellErrors ? `: ${shellErrors.trim()}` : ''}`,
      ),
    );
    this.child = child;
    this.output = '';
    return child;
  }

  private onOutput(child: ChildProcessWithoutNullStreams, chunk: string): void {
    if (child !== this.child) return;
    this.output += chunk;
    for (let end = this.output.indexOf('\n'); end >= 0; end = this.output.indexOf('\n')) {
      const line = this.output.slice(0, end);
      this.output = this.output.slice(end + 1);
      const words = line.split(' ');
      if (words[0] !== this.marker) continue;
      if (words.length === 4 && words[2] === 'pid') {
        const entry = this.pending.get(Number(words[1]));
        if (entry) entry.pid = Number(words[3]);
      } else if (words.length === 3) this.answer(Number(words[1]), Number(words[2]));
    }
    if (this.pending.size === 0) this.setHeld(child, false);
  }

  private answer(id: number, status: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    const file = (suffix: string) => path.join(this.dir!, `${id}${suffix}`);
    let text = '';
    try {
      text = fs.readFileSync(file('.out'), 'utf8').trim();
    } catch {
      // no output file: the shell could not even redirect; the status says what happened
    }
    fs.rmSync(file('.args'), { force: true });
    fs.rmSync(file('.out'), { force: true });
    if (status === 0) entry.resolve();
    else entry.reject(new Error(`${entry.what} failed: ${text || `exit status ${status}`}`));
  }

  /** Kills a command that did not answer in time (its subshell's children, then the subshell) and fails it. */
  private timedOut(id: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (entry.pid) {
      let children: string[] = [];
      try {
        children = fs
          .readFileSync(`/proc/${entry.pid}/task/${entry.pid}/children`, 'utf8')
          .trim()
          .split(/\s+/);
      } catch {
        // already gone
      }
      for (const pid of [...children.filter(Boolean).map(Number), entry.pid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const suffix of ['.args', '.out'])
      fs.rmSync(path.join(this.dir!, `${id}${suffix}`), { force: true });
    entry.reject(new Error(`${entry.what} failed: no answer within ${this.timeoutMs} ms (killed)`));
    if (this.pending.size === 0 && this.child) this.setHeld(this.child, false);
  }

  /** Fails every waiting command with `reason` and drops the shell; the next command starts a new one. */
  private replace(child: ChildProcessWithoutNullStreams, reason: string): void {
    if (child !== this.child) return;
    this.child = undefined;
    child.kill('SIGKILL');
    // A command the shell started may still hold the pipes open (a hung mount): let go of them now.
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream.destroy();
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(new Error(`${entry.what} failed: ${reason}`));
    }
    this.pending.clear();
  }

  /** An idle shell never keeps the driver process alive; one with commands in flight does. */
  private setHeld(child: ChildProcessWithoutNullStreams, held: boolean): void {
    // The stdio pipes are net.Sockets, which can be (un)referenced like the child itself.
    const handles = [child, child.stdin, child.stdout, child.stderr] as unknown as Array<{
      ref(): void;
      unref(): void;
    }>;
    for (const handle of handles) {
      if (held) handle.ref();
      else handle.unref();
    }
  }
}

/** One word for sh: single-quoted, a quote inside as '\''. Only ever applied to this process's own paths. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
