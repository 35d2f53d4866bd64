import { formatDuration, parseDuration } from '../../lib/core/duration';

describe('parseDuration', () => {
  it.each([
    ['2m', 120_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['0', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text, 'rotationPollInterval')).toBe(ms));

  it.each(['2', 'two minutes', '', '5 m', 'm', '-1m', '2d'])('rejects %p naming the field', (text) => {
    expect(() => parseDuration(text, 'rotationPollInterval')).toThrow(
      /^rotationPollInterval: ".*" is not a duration; use a number with a unit/,
    );
  });
});

describe('formatDuration', () => {
  it.each([
    [120_000, '2m0s'],
    [5_400_000, '1h30m0s'],
    [500, '500ms'],
    [0, '0s'],
  ])('formats %d as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
