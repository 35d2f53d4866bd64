import {
  buildMountAttributes,
  encodeMountSecrets,
  goJsonOfStringMap,
} from '../../../../runtime/driver/provider-client/mount-request';
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../../../runtime/wire/csi';

describe('MountRequest JSON encodings (as upstream Go marshals them)', () => {
  it('sorts keys and escapes <, >, & as Go does', () => {
    expect(goJsonOfStringMap({ b: '1', a: '<x>&"y"' })).toBe('{"a":"\\u003cx\\u003e\\u0026\\"y\\"","b":"1"}');
  });

  it('encodes a missing nodePublishSecretRef as null and a present one as an object', () => {
    expect(encodeMountSecrets({})).toBe('null');
    expect(encodeMountSecrets({ clientid: 'id', clientsecret: 's' })).toBe(
      '{"clientid":"id","clientsecret":"s"}',
    );
  });

  it('copies the volume context over the SPC parameters and adds the tokens, secrets first', () => {
    const attributes = buildMountAttributes(
      { keyvaultName: 'kv', secretProviderClass: 'from-spc' },
      {
        secretProviderClass: 'spc',
        'csi.storage.k8s.io/pod.name': 'p',
        [SERVICE_ACCOUNT_TOKENS_KEY]: 'from-context',
      },
      { [SERVICE_ACCOUNT_TOKENS_KEY]: 'from-secrets' },
    );
    expect(attributes).toEqual({
      keyvaultName: 'kv',
      secretProviderClass: 'spc',
      'csi.storage.k8s.io/pod.name': 'p',
      [SERVICE_ACCOUNT_TOKENS_KEY]: 'from-secrets',
    });
    expect(buildMountAttributes({ a: '1' }, { b: '2' }, {})).toEqual({ a: '1', b: '2' });
  });
});
