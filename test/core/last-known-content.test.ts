// The two switches of mounting through a Key Vault outage in the model: the SPC parameter (rendered,
// checked) and the install's maximum staleness (checked, rendered as our provider's flag, which our
// provider's parser accepts; refused with the upstream provider image).
import {
  renderSecretProviderClass,
  renderSelfHostedInstall,
  SecretProviderClassProps,
  SERVE_LAST_KNOWN_CONTENT_PARAMETER,
} from '../../lib/core';
import { parseFlags } from '../../runtime/common/go-compat/flags';
import { PROVIDER_FLAGS } from '../../runtime/provider/flags';
import { seedSpcProps } from './fixtures';
import { container, find } from './install/install-test-helpers';

const base: SecretProviderClassProps = { name: 'app', namespace: 'team-a', ...seedSpcProps };
const parameters = (props: SecretProviderClassProps) =>
  (renderSecretProviderClass(props).spec as { parameters: Record<string, string> }).parameters;

describe('SecretProviderClass serveLastKnownContentOnOutage', () => {
  it('renders "true" when set, and nothing otherwise (existing SPCs render as before)', () => {
    expect(parameters({ ...base, serveLastKnownContentOnOutage: true })).toMatchObject({
      serveLastKnownContentOnOutage: 'true',
    });
    expect(SERVE_LAST_KNOWN_CONTENT_PARAMETER in parameters(base)).toBe(false);
    expect(
      SERVE_LAST_KNOWN_CONTENT_PARAMETER in parameters({ ...base, serveLastKnownContentOnOutage: false }),
    ).toBe(false);
  });

  it('refuses a value that is not a boolean, naming the field', () => {
    expect(() =>
      renderSecretProviderClass({
        ...base,
        serveLastKnownContentOnOutage: 'true' as unknown as boolean,
      }),
    ).toThrow(
      /serveLastKnownContentOnOutage: must be true or false but is .*; write a boolean without quotes/,
    );
  });
});

function providerArgs(options: Parameters<typeof renderSelfHostedInstall>[0]): string[] {
  return container(
    find(renderSelfHostedInstall(options), 'DaemonSet', 'csi-secrets-store-provider-azure'),
    'provider-azure-installer',
  ).args;
}

describe('SelfHostedInstall outageMaxStaleness', () => {
  it('is off by default: no flag, and our provider parses that as 0 (off)', () => {
    const args = providerArgs({});
    expect(args.some((a) => a.startsWith('--outage-max-staleness'))).toBe(false);
    expect(parseFlags(args.slice(1), PROVIDER_FLAGS).flags['outage-max-staleness']).toBe(0);
  });

  it('renders --outage-max-staleness, which our provider parses to the same duration', () => {
    const args = providerArgs({ outageMaxStaleness: ' 1h30m ' });
    expect(args).toContain('--outage-max-staleness=1h30m');
    expect(parseFlags(args.slice(1), PROVIDER_FLAGS).flags['outage-max-staleness']).toBe(90 * 60_000);
  });

  it.each([
    ['0s', /outageMaxStaleness: "0s" must be longer than zero; leave outageMaxStaleness out/],
    ['500ms', /outageMaxStaleness: "500ms" is shorter than one second/],
    ['169h', /outageMaxStaleness: "169h" is longer than the 168h limit/],
    ['an hour', /outageMaxStaleness: "an hour" is not a duration/],
  ])('refuses %s with the fix', (value, message) => {
    expect(() => renderSelfHostedInstall({ outageMaxStaleness: value })).toThrow(message);
  });

  it('refuses it with the upstream provider image, which has no such flag', () => {
    expect(() =>
      renderSelfHostedInstall({ outageMaxStaleness: '1h', images: { useUpstreamImages: true } }),
    ).toThrow(/outageMaxStaleness: needs this project's provider image/);
  });

  it('refuses a value of the wrong type', () => {
    expect(() => renderSelfHostedInstall({ outageMaxStaleness: 3600 as unknown as string })).toThrow(
      /outageMaxStaleness/,
    );
  });
});
