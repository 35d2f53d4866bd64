import { Logger } from '../../../../runtime/common/logging/logger';
import { REDACTED, Redactor } from '../../../../runtime/common/logging/redaction';

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  const redactor = new Redactor();
  const logger = new Logger({
    level,
    sink: (line) => lines.push(line),
    redactor,
    fields: { component: 'test' },
  });
  return {
    lines,
    logger,
    redactor,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXZhbHVl';

describe('Logger', () => {
  it('writes one JSON line per call with level, message and fields', () => {
    const { records, logger } = capture();
    logger.info('mounted', { files: 3 });
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'mounted',
        component: 'test',
        files: 3,
        ts: expect.any(String),
      }),
    ]);
  });

  it('drops lines below the level', () => {
    const { lines, logger } = capture('info');
    logger.debug('noise');
    logger.warn('kept');
    expect(lines).toHaveLength(1);
  });

  it('redacts sensitive keys, registered secrets and JWTs, including inside errors and nested objects', () => {
    const { lines, logger, redactor } = capture();
    redactor.registerSecret('hunter2-value');
    logger.error('failed with hunter2-value', {
      attributes: {
        'csi.storage.k8s.io/serviceAccount.tokens': '{"api://AzureADTokenExchange":{"token":"abc"}}',
        secretProviderClass: 'spc1',
      },
      clientSecret: 'sp-secret',
      password: 'pw',
      error: new Error(`token exchange failed for ${jwt}`),
      note: `value was hunter2-value`,
    });
    const text = lines.join('');
    for (const leaked of ['hunter2-value', 'sp-secret', '"pw"', jwt, 'abc'])
      expect(text).not.toContain(leaked);
    const parsed = JSON.parse(lines[0]) as {
      msg: string;
      clientSecret: string;
      attributes: Record<string, string>;
      error: { message: string };
    };
    expect(parsed.attributes.secretProviderClass).toBe('spc1');
    expect(parsed.attributes['csi.storage.k8s.io/serviceAccount.tokens']).toBe(REDACTED);
    expect(parsed.clientSecret).toBe(REDACTED);
    expect(parsed.error.message).toBe(`token exchange failed for ${REDACTED}`);
    expect(parsed.msg).toBe(`failed with ${REDACTED}`);
  });

  it('child loggers share the redactor', () => {
    const { lines, logger, redactor } = capture();
    redactor.registerSecret('s3cr3t-xyz');
    logger.child({ mount: 'm1' }).info('got s3cr3t-xyz');
    expect(lines[0]).not.toContain('s3cr3t-xyz');
    expect(JSON.parse(lines[0]).mount).toBe('m1');
  });
});
