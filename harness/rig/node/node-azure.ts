// The fake Azure (harness/fakes) as the node's pods see it: the real public-cloud names (the provider
// builds `https://<vault>.vault.azure.net` and logs in at login.microsoftonline.com, as on AKS), resolved by
// the node's cluster DNS to the doubles on loopback port 443, with certificates from the CA the node's images
// trust. The provider pod is hostNetwork (as the install renders it), so loopback is the host's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeAzure, startFakeAzure } from '../../fakes/fake-azure';
import { TestCa } from '../../fakes/test-ca';
import type { NodeEndpoints } from './node';

export const PUBLIC_CLOUD_VAULT_SUFFIX = 'vault.azure.net';
export const PUBLIC_CLOUD_LOGIN_HOST = 'login.microsoftonline.com';

/** Starts the doubles and registers their names with the node's DNS; dispose unregisters them. */
export async function startNodeAzure(
  node: NodeEndpoints,
  props: { tenantId: string; vaultNames: readonly string[]; keyVaultLatencyMs?: number },
): Promise<FakeAzure> {
  const azure = await startFakeAzure({
    tenantId: props.tenantId,
    vaultNames: props.vaultNames,
    keyVaultDnsSuffix: PUBLIC_CLOUD_VAULT_SUFFIX,
    loginHost: PUBLIC_CLOUD_LOGIN_HOST,
    port443: true,
    keyVaultLatencyMs: props.keyVaultLatencyMs,
    ca: TestCa.load(node.caDir),
  });
  const hostsFile = path.join(node.dnsHostsDir, `fake-azure-${process.pid}.hosts`);
  const lines = Object.entries(azure.hosts).map(([name, address]) => `${address} ${name}`);
  fs.writeFileSync(hostsFile, lines.join('\n') + '\n', { mode: 0o644 });
  return {
    ...azure,
    async dispose(): Promise<void> {
      fs.rmSync(hostsFile, { force: true });
      await azure.dispose();
    },
  };
}
