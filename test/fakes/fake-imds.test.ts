// The fake IMDS reached by the real @azure/identity ManagedIdentityCredential through the standard
// AZURE_POD_IDENTITY_AUTHORITY_HOST override: system- and user-assigned identities, the Metadata header.
import { request } from 'node:http';
import { ManagedIdentityCredential } from '@azure/identity';
import { FakeImds } from '../../harness/fakes/fake-imds';

const systemAssigned = '00000000-0000-0000-0000-00000000000a';
const addonIdentity = '00000000-0000-0000-0000-00000000000b';
const scope = 'https://vault.azure.net/.default';

let imds: FakeImds;
const savedHost = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;

beforeAll(async () => {
  imds = await FakeImds.start({
    systemAssignedClientId: systemAssigned,
    userAssignedClientIds: [addonIdentity],
  });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.endpoint;
});

afterAll(async () => {
  if (savedHost === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = savedHost;
  await imds?.close();
});

beforeEach(() => imds.resetStats());

test('system-assigned identity', async () => {
  const token = await new ManagedIdentityCredential().getToken(scope);
  expect(imds.tokenInfo(token.token)).toEqual({
    clientId: systemAssigned,
    resource: 'https://vault.azure.net',
  });
  expect(imds.stats().tokensByClient).toEqual({ [systemAssigned]: 1 });
});

test('user-assigned identity by client id (the AKS add-on identity), cached by the credential', async () => {
  const credential = new ManagedIdentityCredential({ clientId: addonIdentity });
  const first = await credential.getToken(scope);
  const second = await credential.getToken(scope);
  expect(second.token).toBe(first.token);
  expect(imds.tokenInfo(first.token)?.clientId).toBe(addonIdentity);
  expect(imds.stats().tokensIssued).toBe(1);
});

test('an identity not attached to the VM fails with "Identity not found"', async () => {
  const credential = new ManagedIdentityCredential({ clientId: '00000000-0000-0000-0000-0000000000ff' });
  await expect(credential.getToken(scope)).rejects.toThrow(/Identity not found|400/);
  expect(imds.stats().tokensIssued).toBe(0);
});

test('a request without the Metadata header is refused', async () => {
  const url = `${imds.endpoint}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    request(url, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    })
      .on('error', reject)
      .end();
  });
  expect(status).toBe(400);
  expect(JSON.parse(body)).toEqual({
    error: 'invalid_request',
    error_description: 'Required metadata header not specified',
  });
  expect(imds.stats().tokensIssued).toBe(0);
});
