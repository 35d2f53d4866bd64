import { FlagError, parseFlags } from '../../../../runtime/common/go-compat/flags';

const specs = {
  endpoint: { type: 'string', default: 'unix:///tmp/azure.sock', usage: 'socket' },
  'construct-pem-chain': { type: 'bool', default: true, usage: 'chain' },
  'healthz-port': { type: 'int', default: 8989, usage: 'port' },
  timeout: { type: 'duration', default: 5000, usage: 'timeout' },
} as const;

describe('parseFlags', () => {
  it('keeps defaults when no flag is given', () => {
    const { flags, positional } = parseFlags([], specs);
    expect(flags).toEqual({
      endpoint: 'unix:///tmp/azure.sock',
      'construct-pem-chain': true,
      'healthz-port': 8989,
      timeout: 5000,
    });
    expect(positional).toEqual([]);
  });

  it('accepts --name=value, --name value, -name=value and Go booleans', () => {
    const { flags } = parseFlags(
      ['--endpoint', 'unix:///a.sock', '-healthz-port=1', '--construct-pem-chain=F', '--timeout=1m30s'],
      specs,
    );
    expect(flags).toEqual({
      endpoint: 'unix:///a.sock',
      'construct-pem-chain': false,
      'healthz-port': 1,
      timeout: 90_000,
    });
  });

  it('treats a bare boolean flag as true without consuming the next argument', () => {
    const { flags, positional } = parseFlags(['--construct-pem-chain', 'rest'], {
      ...specs,
      'construct-pem-chain': { type: 'bool', default: false, usage: '' },
    });
    expect(flags['construct-pem-chain']).toBe(true);
    expect(positional).toEqual(['rest']);
  });

  it.each([
    [['--nope=1'], /flag provided but not defined: --nope/],
    [['--healthz-port=abc'], /invalid value "abc" for flag --healthz-port/],
    [
      ['--construct-pem-chain=yes'],
      /invalid boolean value "yes" for flag --construct-pem-chain: strconv.ParseBool: parsing "yes": invalid syntax/,
    ],
    [['--endpoint'], /flag needs an argument: --endpoint/],
    [['--timeout=5'], /for flag --timeout: "5" is not a duration/],
  ])('rejects %j naming the flag', (args, message) => {
    expect(() => parseFlags(args, specs)).toThrow(FlagError);
    expect(() => parseFlags(args, specs)).toThrow(message);
  });

  it('reports --help', () => {
    expect(parseFlags(['--help'], specs).help).toBe(true);
  });
});
