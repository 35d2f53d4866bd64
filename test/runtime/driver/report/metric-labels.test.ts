// The driver's metric label values come from closed sets, whatever pods and providers send
// (the rig's view of the same: test/runtime/driver/hostile-inputs.rig.test.ts, last test).
import { ErrorReason } from '../../../../runtime/driver/error-reasons';
import { MetricLabels } from '../../../../runtime/driver/report/metric-labels';

describe('MetricLabels', () => {
  const installed = new Set(['azure', 'scripted']);
  const labels = () => new MetricLabels({ isInstalledProvider: (name) => installed.has(name) });

  it('keeps installed provider names and the empty name; anything else is "unknown"', () => {
    const l = labels();
    expect(['', 'azure', 'scripted'].map((n) => l.provider(n))).toEqual(['', 'azure', 'scripted']);
    for (const hostile of ['../../evil', 'x'.repeat(1000), 'gcp', 'unique-name-1', 'a\nb'])
      expect(l.provider(hostile)).toBe('unknown');
  });

  it("keeps the driver's reasons and at most 32 short provider codes; free text is ProviderError", () => {
    const l = labels();
    for (const reason of Object.values(ErrorReason)) expect(l.errorType(reason)).toBe(reason);
    expect(l.errorType('the secret value is hunter2')).toBe(ErrorReason.ProviderError);
    expect(l.errorType('x'.repeat(65))).toBe(ErrorReason.ProviderError);
    const codes = Array.from({ length: 40 }, (_, i) => `Code${i}`);
    const values = new Set(codes.map((c) => l.errorType(c)));
    expect(values.size).toBe(33); // the first 32 codes, then ProviderError
    expect(l.errorType('Code0')).toBe('Code0'); // a code already seen keeps its value
    expect(l.errorType('Code39')).toBe(ErrorReason.ProviderError);
  });
});
