import { isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedKey } from '../../../lib/core';

// The Kubernetes name rules the SPC validation and the install's option checks share.

describe('Kubernetes name predicates', () => {
  test('RFC 1123 subdomain: lower-case, dots allowed, at most 253 characters', () => {
    expect(isDns1123Subdomain('app.secrets-1')).toBe(true);
    expect(
      isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`),
    ).toBe(true);
    expect(
      isDns1123Subdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`),
    ).toBe(false);
    for (const bad of ['', 'App', '-a', 'a-', 'a_b', 'a..b']) expect(isDns1123Subdomain(bad)).toBe(false);
  });

  test('RFC 1123 label: no dots, at most 63 characters', () => {
    expect(isDns1123Label('team-a')).toBe(true);
    expect(isDns1123Label('a'.repeat(63))).toBe(true);
    expect(isDns1123Label('a'.repeat(64))).toBe(false);
    for (const bad of ['', 'team.a', 'Team', '-a']) expect(isDns1123Label(bad)).toBe(false);
  });

  test('qualified key: optional DNS-subdomain prefix, name of at most 63 characters', () => {
    for (const good of ['team', 'example.com/team', 'kubernetes.io/os', 'A_b.c']) {
      expect(isQualifiedKey(good)).toBe(true);
    }
    for (const bad of ['', '/team', 'Example.com/team', 'bad key', `${'a'.repeat(64)}`, 'x/']) {
      expect(isQualifiedKey(bad)).toBe(false);
    }
  });

  test('label value: empty, or at most 63 characters starting and ending alphanumeric', () => {
    for (const good of ['', 'a', 'system', 'A-b_c.d', 'a'.repeat(63)]) expect(isLabelValue(good)).toBe(true);
    for (const bad of ['a b', '-a', 'a.', 'a'.repeat(64)]) expect(isLabelValue(bad)).toBe(false);
  });
});
