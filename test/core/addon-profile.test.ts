import { KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY, renderAddonProfile } from '../../lib/core';

describe('renderAddonProfile', () => {
  test('defaults match `az aks enable-addons`: rotation off, 2m, string values', () => {
    expect(KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY).toBe('azureKeyvaultSecretsProvider');
    expect(renderAddonProfile()).toEqual({
      enabled: true,
      config: { enableSecretRotation: 'false', rotationPollInterval: '2m' },
    });
  });

  test('rotation on with a custom interval', () => {
    expect(renderAddonProfile({ enableSecretRotation: true, rotationPollInterval: '5m' })).toEqual({
      enabled: true,
      config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
    });
    expect(renderAddonProfile({ enableSecretRotation: true }).config.rotationPollInterval).toBe('2m');
  });

  test('fails on an interval that is not a duration', () => {
    expect(() => renderAddonProfile({ enableSecretRotation: true, rotationPollInterval: '5' })).toThrow(
      'rotationPollInterval: "5" is not a duration; use a number with a unit such as "2m"',
    );
    expect(() =>
      renderAddonProfile({ enableSecretRotation: true, rotationPollInterval: '2 minutes' }),
    ).toThrow(/^rotationPollInterval: "2 minutes" is not a duration/);
  });

  test('fails on a zero or sub-second interval', () => {
    expect(() => renderAddonProfile({ enableSecretRotation: true, rotationPollInterval: '0s' })).toThrow(
      'rotationPollInterval: "0s" is not a positive duration',
    );
    expect(() => renderAddonProfile({ enableSecretRotation: true, rotationPollInterval: '100ms' })).toThrow(
      /^rotationPollInterval: "100ms" \(100ms\) would poll Key Vault more than once a second/,
    );
  });

  test('fails on a custom interval with rotation off (it would be ignored)', () => {
    expect(() => renderAddonProfile({ rotationPollInterval: '10m' })).toThrow(
      'rotationPollInterval: "10m" is set but enableSecretRotation is false, so it would be ignored; set enableSecretRotation: true or remove rotationPollInterval',
    );
  });
});
