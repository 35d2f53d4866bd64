import { REDACTED, Redactor } from '../../../../runtime/common/logging/redaction';

describe('Redactor.scope', () => {
  it('replaces only what its own request registered, and passes every value on to the log redactor', () => {
    const logs = new Redactor();
    const tenantA = logs.scope();
    const tenantB = logs.scope();
    tenantA.registerSecret('alpha-secret-value');
    tenantB.registerSecret('bravo-secret-value');
    // B's echo of a guess that happens to be A's secret reads exactly as any other guess would.
    expect(tenantB.redactString('invalid name "alpha-secret-value"')).toBe(
      'invalid name "alpha-secret-value"',
    );
    expect(tenantB.redactString('invalid name "bravo-secret-value"')).toBe(`invalid name "${REDACTED}"`);
    // Logs still replace both.
    expect(logs.redactString('alpha-secret-value bravo-secret-value')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('replaces JWT-shaped text in every scope, whoever sent it', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl';
    expect(new Redactor().scope().redactString(`token ${jwt}`)).toBe(`token ${REDACTED}`);
    // An error that upper-cases its input still prints no token.
    expect(new Redactor().scope().redactString(`name "${jwt.toUpperCase()}"`)).toBe(`name "${REDACTED}"`);
  });

  it('does not remember values longer than maxSecretLength (a long-lived redactor stays bounded)', () => {
    const logs = new Redactor({ maxSecretLength: 8 });
    const scope = logs.scope();
    scope.registerSecret('longer-than-eight');
    expect(logs.redactString('longer-than-eight')).toBe('longer-than-eight');
    expect(scope.redactString('longer-than-eight')).toBe(REDACTED);
  });
});
