// A small parser for Go-style command-line flags, so the runtime takes the same flag spellings as
// the upstream binaries: `--name=value`, `--name value`, `-name=value`, boolean `--name` and
// `--name=false`. Parsing stops at `--` or the first non-flag argument (as Go's flag package does).
import { parseDuration } from '../../../lib/core/duration';
import { goParseBoolError, parseGoBool } from './parse-bool';

/** Declaration of one flag. */
export interface FlagSpec {
  /** Value type: strings as given, Go booleans, base-10 integers, or Go durations (in ms). */
  readonly type: 'string' | 'bool' | 'int' | 'duration';
  /** Value when the flag is absent (durations in milliseconds). */
  readonly default: string | boolean | number;
  /** One line for `--help`. */
  readonly usage: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S['type'] extends 'bool'
  ? boolean
  : S['type'] extends 'string'
    ? string
    : number;

/** Parsed values, keyed by flag name. */
export type ParsedFlags<S extends FlagSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Bad command line; the message names the flag and the fix. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** Result of parsing: flag values, arguments after the flags, and whether help was asked for. */
export interface FlagParseResult<S extends FlagSpecs> {
  readonly flags: ParsedFlags<S>;
  readonly positional: string[];
  readonly help: boolean;
}

export function parseFlags<S extends FlagSpecs>(args: readonly string[], specs: S): FlagParseResult<S> {
  const flags: Record<string, string | boolean | number> = {};
  for (const [name, spec] of Object.entries(specs)) flags[name] = spec.default;
  let help = false;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === 'help' || name === 'h') {
      help = true;
      continue;
    }
    const spec = specs[name];
    if (!spec) {
      throw new FlagError(
        `flag provided but not defined: --${name} (known flags: ${Object.keys(specs)
          .map((n) => `--${n}`)
          .join(', ')})`,
      );
    }
    let text: string;
    if (eq >= 0) {
      text = body.slice(eq + 1);
    } else if (spec.type === 'bool') {
      text = 'true';
    } else {
      if (i + 1 >= args.length)
        throw new FlagError(`flag needs an argument: --${name} (e.g. --${name}=<value>)`);
      text = args[++i];
    }
    flags[name] = convert(name, spec, text);
  }
  return { flags: flags as ParsedFlags<S>, positional: args.slice(i), help };
}

function convert(name: string, spec: FlagSpec, text: string): string | boolean | number {
  switch (spec.type) {
    case 'string':
      return text;
    case 'bool': {
      const value = parseGoBool(text);
      if (value === undefined) {
        throw new FlagError(
          `invalid boolean value ${JSON.stringify(text)} for flag --${name}: ${goParseBoolError(text)}; use true or false`,
        );
      }
      return value;
    }
    case 'int': {
      if (!/^[-+]?[0-9]+$/.test(text)) {
        throw new FlagError(
          `invalid value ${JSON.stringify(text)} for flag --${name}: not a base-10 integer`,
        );
      }
      return Number(text);
    }
    case 'duration':
      try {
        return parseDuration(text, `--${name}`);
      } catch (err) {
        throw new FlagError(`invalid value ${JSON.stringify(text)} for flag ${(err as Error).message}`);
      }
  }
}

/** Usage text listing every flag with its default. */
export function formatFlagUsage(program: string, specs: FlagSpecs): string {
  const lines = [`usage: ${program} [flags]`];
  for (const [name, spec] of Object.entries(specs)) {
    lines.push(`  --${name} (${spec.type}, default ${JSON.stringify(spec.default)})`, `      ${spec.usage}`);
  }
  return `${lines.join('\n')}\n`;
}
