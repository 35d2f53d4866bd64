import { ValidationError } from './validation/validation-error';

// Go's time.ParseDuration format, which the driver flag `--rotation-poll-interval` and the AKS
// add-on's `rotationPollInterval` accept: a sequence of decimal numbers with units, e.g. "2m",
// "1h30m", "90s", "1.5h". A bare number (other than "0") is not a duration.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)/;

/** Parses a Go duration and returns milliseconds; throws a ValidationError naming `field`. */
export function parseDuration(text: string, field: string): number {
  const fail = (): never => {
    throw new ValidationError(
      field,
      `"${text}" is not a duration; use a number with a unit such as "2m", "90s" or "1h30m" (units: ns, us, ms, s, m, h)`,
    );
  };
  let rest = text.trim();
  if (rest === '0') return 0;
  if (rest === '') fail();
  let total = 0;
  while (rest.length > 0) {
    const m = DURATION.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') fail();
    total += Number(m![1]) * UNIT_MS[m![2]];
    rest = rest.slice(m![0].length);
  }
  return total;
}

/** Formats milliseconds the way Go prints a duration ("2m0s", "1h30m0s", "500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
