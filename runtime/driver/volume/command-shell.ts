// mount and umount run through one long-lived /bin/sh instead of a Node spawn each. A spawn forks the
// whole Node process and blocks the event loop until the child has exec'd: 10-16 ms p50 per call on
// Node 24 at load 18 on the 2-core bench machine, against 0.8 ms for the same command through a shell
// that is already running (the shell is small, so its fork is cheap). The commands, their arguments and
// the error texts are the ones a spawn gives: the shell only forks and execs them.
//
// Protocol: each command is written as one quoted line whose output (stdout and stderr together) ends
// with a line `<marker> <exit status>`; the marker holds 16 random bytes, so no output can fake it.
// The shell runs the commands in order, so answers come back in the order they were asked.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Options of a CommandShell. */
export interface CommandShellProps {
  /** @default '/bin/sh' */
  readonly shell?: string;
  /** A command that has not answered after this long fails, and the shell is replaced. @default 60000 */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly what: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

export class CommandShell {
  private readonly shellPath: string;
  private readonly timeoutMs: number;
  private readonly marker = `__aks_secrets_store_done_${randomBytes(16).toString('hex')}`;
  private child?: ChildProcessWithoutNullStreams;
  private output = '';
  private readonly pending: Pending[] = [];

  constructor(props: CommandShellProps = {}) {
    this.shellPath = props.shell ?? '/bin/sh';
    this.timeoutMs = props.timeoutMs ?? 60_000;
  }

  /**
   * Runs `command args...` (looked up on PATH, as a spawn does); rejects with
   * `<command> <args> failed: <its output, or the exit status>`.
   */
  run(command: string, args: readonly string[]): Promise<void> {
    const what = [command, ...args].join(' ');
    for (const word of [command, ...args]) {
      if (word.includes('\0'))
        return Promise.reject(
          new Error(`${what.replace(/\0/g, '\\0')} failed: an argument holds a NUL byte`),
        );
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Pending = { what, resolve, reject };
      const child = this.shellProcess();
      this.pending.push(entry);
      entry.timer = setTimeout(
        () => this.replace(child, `no answer within ${this.timeoutMs} ms (the command shell is replaced)`),
        this.timeoutMs,
      );
      entry.timer.unref();
      this.setHeld(child, true);
      const line = [command, ...args].map(shellQuote).join(' ');
      child.stdin.write(`${line} </dev/null 2>&1; printf '\\n%s %d\\n' ${this.marker} $?\n`);
    });
  }

  /** Stops the shell; commands still waiting fail. */
  close(): void {
    if (this.child) this.replace(this.child, 'the command shell was closed');
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
    for (;;) {
      const at = this.output.indexOf(`\n${this.marker} `);
      const end = at < 0 ? -1 : this.output.indexOf('\n', at + 1);
      if (end < 0) return;
      const status = Number(this.output.slice(at + this.marker.length + 2, end));
      const text = this.output.slice(0, at).trim();
      this.output = this.output.slice(end + 1);
      const entry = this.pending.shift();
      if (!entry) continue;
      clearTimeout(entry.timer);
      if (status === 0) entry.resolve();
      else entry.reject(new Error(`${entry.what} failed: ${text || `exit status ${status}`}`));
      if (this.pending.length === 0) this.setHeld(child, false);
    }
  }

  /** Fails every waiting command with `reason` and drops the shell; the next command starts a new one. */
  private replace(child: ChildProcessWithoutNullStreams, reason: string): void {
    if (child !== this.child) return;
    this.child = undefined;
    child.kill('SIGKILL');
    // A command the shell started may still hold the pipes open (a hung mount): let go of them now.
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream.destroy();
    for (const entry of this.pending.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(new Error(`${entry.what} failed: ${reason}`));
    }
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

/** One word for sh: single-quoted, a quote inside as '\''. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
