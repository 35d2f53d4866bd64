// Structured JSON-lines logger writing to stderr. Every field and message passes the redactor, so a
// secret value or a service-account token cannot reach a log line even by mistake.
import { defaultRedactor, Redactor } from './redaction';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(text: string): text is LogLevel {
  return Object.prototype.hasOwnProperty.call(LEVEL_ORDER, text);
}

/** Options of a Logger. */
export interface LoggerProps {
  /** Lowest level that is written. @default 'info' */
  readonly level?: LogLevel;
  /** Where each JSON line goes (without the newline handling: the sink gets the full line). @default process.stderr.write */
  readonly sink?: (line: string) => void;
  /** Fields added to every line, e.g. `{ component: 'provider' }`. @default {} */
  readonly fields?: Record<string, unknown>;
  /** Redaction layer. @default the process-wide defaultRedactor */
  readonly redactor?: Redactor;
  /** Clock for the `ts` field. @default () => new Date() */
  readonly now?: () => Date;
}

export class Logger {
  private readonly level: LogLevel;
  private readonly sink: (line: string) => void;
  private readonly fields: Record<string, unknown>;
  readonly redactor: Redactor;
  private readonly now: () => Date;

  constructor(props: LoggerProps = {}) {
    this.level = props.level ?? 'info';
    this.sink = props.sink ?? ((line) => process.stderr.write(line));
    this.fields = props.fields ?? {};
    this.redactor = props.redactor ?? defaultRedactor;
    this.now = props.now ?? (() => new Date());
  }

  /** A logger that adds `fields` to every line and shares this one's sink, level and redactor. */
  child(fields: Record<string, unknown>): Logger {
    return new Logger({
      level: this.level,
      sink: this.sink,
      redactor: this.redactor,
      now: this.now,
      fields: { ...this.fields, ...fields },
    });
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= LEVEL_ORDER[this.level];
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const record = this.redactor.redact({ ...this.fields, ...fields }) as Record<string, unknown>;
    const line = JSON.stringify({
      ts: this.now().toISOString(),
      level,
      msg: this.redactor.redactString(msg),
      ...record,
    });
    this.sink(`${line}\n`);
  }
}
