// VaultAccess against the fake Key Vault in this process (real HTTPS, the 401 challenge): one
// connection pool per vault host shared by every identity, closed when the host is evicted or sits
// idle; every call asks the credential it brought; nothing kept per identity; bounded hosts.
import type { AccessToken, TokenCredential } from '@azure/identity';
import { FakeAzure, startFakeAzure } from '../../../harness/fakes/fake-azure';
import { staticLookup } from '../../../harness/fakes/loopback-hosts';
import { TestCa } from '../../../harness/fakes/test-ca';
import { VaultAccess, VaultCallContext } from '../../../runtime/provider/keyvault/vault-access';

const TENANT = '6f1d2c3b-0000-4000-8000-00000000b002';
const VAULTS = ['kv1', 'kv2', 'kv3'];
let azure: FakeAzure;

beforeAll(async () => {
  azure = await startFakeAzure({ tenantId: TENANT, vaultNames: VAULTS });
  for (const vault of VAULTS) azure.vault.setSecret(vault, 's1', `value of ${vault}`);
});

afterAll(async () => {
  await azure?.dispose();
});

/** A credential whose tokens name it, already expired: the SDK asks for a new one on every request. */
function namedCredential(name: string): TokenCredential & { calls: number } {
  const credential = {
    calls: 0,
    getToken: async (): Promise<AccessToken> => {
      credential.calls++;
      return { token: `token-of-${name}`, expiresOnTimestamp: Date.now() - 1000 };
    },
  };
  return credential;
}

function access(props: ConstructorParameters<typeof VaultAccess>[0] = {}): VaultAccess {
  return new VaultAccess({
    maxRetries: 0,
    tlsAgentOptions: { ca: azure.ca.caCertPem, lookup: staticLookup(azure.hosts) as never },
    ...props,
  });
}

function ctx(identityKey: string, vault: string, credential: TokenCredential): VaultCallContext {
  return {
    identityKey,
    credential,
    vaultUrl: azure.vault.vaultUrl(vault),
    disableChallengeResourceVerification: false,
    priority: 'mount',
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('VaultAccess', () => {
  it('asks the credential each call brought, so a re-created credential is used at once', async () => {
    const vault = access();
    try {
      const first = namedCredential('first');
      const second = namedCredential('second');
      const got = await vault.getObject(ctx('wi|one', 'kv1', first), 'secret', 's1', '');
      expect(got.type === 'secret' && got.value).toBe('value of kv1');
      // The credential pool re-created the identity's credential (say, after an eviction).
      await vault.getObject(ctx('wi|one', 'kv1', second), 'secret', 's1', '');
      expect(second.calls).toBeGreaterThan(0);
      const callsOfFirst = first.calls;
      await vault.getObject(ctx('wi|one', 'kv1', second), 'secret', 's1', '');
      expect(first.calls).toBe(callsOfFirst);
    } finally {
      vault.close();
    }
  });

  it('shares one connection pool per vault host among identities and closes it when the host is evicted', async () => {
    await settle();
    const before = azure.vault.stats().openConnections;
    const vault = access({ maxVaultHosts: 2 });
    try {
      for (let i = 0; i < 5; i++)
        await vault.getObject(ctx(`sp|identity-${i}`, 'kv1', namedCredential(`id-${i}`)), 'secret', 's1', '');
      // Five identities, sequential calls: one kept-alive connection, one pool.
      expect(azure.vault.stats().openConnections - before).toBe(1);
      expect(vault.hosts.hostCount).toBe(1);
      await vault.getObject(ctx('sp|identity-0', 'kv2', namedCredential('x')), 'secret', 's1', '');
      await vault.getObject(ctx('sp|identity-0', 'kv3', namedCredential('y')), 'secret', 's1', '');
      // kv1.vault.fake.test was the least recently used of three hosts, over the bound of two.
      expect(vault.hosts.hostCount).toBe(2);
      await settle();
      expect(azure.vault.stats().openConnections - before).toBe(2);
    } finally {
      vault.close();
    }
    await settle();
    expect(azure.vault.stats().openConnections).toBe(before);
  });

  it('connects to every vault host with one TLS context, which trusts only the CA it was given', async () => {
    const vault = access();
    try {
      for (const name of VAULTS)
        await vault.getObject(ctx('sp|one', name, namedCredential('one')), 'secret', 's1', '');
      const contexts = VAULTS.map((name) => {
        const { agent } = vault.hosts.host(new URL(azure.vault.vaultUrl(name)).host);
        return (agent.options as { secureContext?: unknown }).secureContext;
      });
      expect(contexts[0]).toBeDefined();
      expect(new Set(contexts).size).toBe(1);
    } finally {
      vault.close();
    }
    const otherCa = TestCa.create({ commonName: 'not the vault CA' });
    const strict = access({
      tlsAgentOptions: { ca: otherCa.caCertPem, lookup: staticLookup(azure.hosts) as never },
    });
    try {
      await expect(
        strict.getObject(ctx('sp|one', 'kv1', namedCredential('one')), 'secret', 's1', ''),
      ).rejects.toThrow(/unable to verify|self-signed|local issuer|certificate/i);
    } finally {
      strict.close();
      otherCa.dispose();
    }
  });

  it('takes one 401 challenge per vault host for all identities, and keeps nothing per identity', async () => {
    const vault = access();
    try {
      azure.vault.resetStats();
      const credentials = Array.from({ length: 20 }, (_, i) => namedCredential(`id-${i}`));
      for (const [i, credential] of credentials.entries())
        await vault.getObject(ctx(`sp|identity-${i}`, 'kv2', credential), 'secret', 's1', '');
      // The host's scope is learnt once; every later identity sends its token on the first request.
      expect(azure.vault.stats().challenges).toBe(1);
      expect(azure.vault.stats().authorizedRequests).toBe(20);
      expect(credentials.every((c) => c.calls === 1)).toBe(true);
      expect(vault.hosts.hostCount).toBe(1);
    } finally {
      vault.close();
    }
  });

  it("a call whose Mount left while it waited for a cold host's first call sends nothing and holds no later call", async () => {
    const vault = access({ requestTimeoutMs: 20_000 });
    try {
      azure.vault.resetStats();
      azure.vault.injectFault({ kind: 'stall', count: 1, match: /^kv3\/secrets\/s1/ });
      const leader = new AbortController();
      const first = vault.getObject(
        { ...ctx('sp|leader', 'kv3', namedCredential('leader')), signal: leader.signal },
        'secret',
        's1',
        '',
      );
      const waiting = new AbortController();
      const second = vault.getObject(
        { ...ctx('sp|gone', 'kv3', namedCredential('gone')), signal: waiting.signal },
        'secret',
        's1',
        '',
      );
      const settled = Promise.allSettled([first, second]);
      while (azure.vault.stats().faults === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      // The second call's Mount goes while the first call (the host's first) stalls, then the first goes.
      waiting.abort(new Error('the second Mount went away'));
      leader.abort(new Error('the first Mount went away'));
      const [, gone] = await settled;
      expect(gone.status === 'rejected' && (gone.reason as Error).message).toBe('the second Mount went away');
      // Nothing was sent for the Mount that had gone, so a later call leads at once and is answered.
      const started = Date.now();
      const later = await vault.getObject(
        ctx('sp|later', 'kv3', namedCredential('later')),
        'secret',
        's1',
        '',
      );
      expect(later.type === 'secret' && later.value).toBe('value of kv3');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(azure.vault.stats().authorizedRequests).toBe(2); // the stalled first call and the later one
    } finally {
      azure.vault.clearFaults();
      vault.close();
    }
  });

  it('closes the pools of idle hosts on sweep', async () => {
    await settle();
    const before = azure.vault.stats().openConnections;
    const vault = access({ vaultHostIdleMs: 0 });
    try {
      await vault.getObject(ctx('sp|a', 'kv1', namedCredential('a')), 'secret', 's1', '');
      expect(azure.vault.stats().openConnections - before).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      vault.sweep();
      expect(vault.hosts.hostCount).toBe(0);
      await settle();
      expect(azure.vault.stats().openConnections).toBe(before);
    } finally {
      vault.close();
    }
  });
});
