// One call that starts the Azure doubles a provider needs (test CA, Key Vault, Entra ID token
// endpoint), with consistent host names, plus what clients need to reach them: an HTTPS agent for
// in-process Node clients, a hosts file for provider processes, and an AzureStackCloud file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEntra } from './fake-entra';
import { FakeKeyVault } from './fake-key-vault';
import { randomLoopbackAddress, staticLookup, writeHostsFile } from './loopback-hosts';
import { TestCa } from './test-ca';

/** Properties of {@link startFakeAzure}. */
export interface FakeAzureProps {
  /** Tenant id the vault's challenge names and the token endpoint serves. */
  readonly tenantId: string;
  /**
   * Vault names whose host names go into the hosts file (hosts files have no wildcards).
   * @default ['kv1']
   */
  readonly vaultNames?: readonly string[];
  /**
   * Key Vault DNS suffix of the fake cloud.
   * @default 'vault.fake.test'
   */
  readonly keyVaultDnsSuffix?: string;
  /**
   * Login host of the fake cloud.
   * @default 'login.fake.test'
   */
  readonly loginHost?: string;
  /**
   * Listen on port 443 of random 127.x.y.z addresses (URLs without ports, like Azure's; needs root),
   * instead of ephemeral ports on 127.0.0.1.
   * @default false
   */
  readonly port443?: boolean;
  /**
   * `resource` of the Key Vault's 401 challenge.
   * @default `https://<keyVaultDnsSuffix>` (a parent domain of every vault host, as on Azure)
   */
  readonly keyVaultResource?: string;
  /**
   * Delay the Key Vault adds to every response, in ms.
   * @default 0
   */
  readonly keyVaultLatencyMs?: number;
  /**
   * The CA that issues the doubles' certificates (e.g. the one the rig's node images trust).
   * @default a fresh test CA
   */
  readonly ca?: TestCa;
}

/** The running doubles and how to reach them. */
export interface FakeAzure {
  readonly ca: TestCa;
  readonly vault: FakeKeyVault;
  readonly entra: FakeEntra;
  /** Directory for the hosts file, cloud file and CA (removed by dispose). */
  readonly dir: string;
  /** `https://<loginHost>[:port]` — the authority host / activeDirectoryEndpoint. */
  readonly authorityHost: string;
  /** Key Vault DNS suffix including `:port` when not 443, as a cloud file's keyVaultDNSSuffix. */
  readonly keyVaultDnsSuffix: string;
  /** Host name → loopback address of every double. */
  readonly hosts: Readonly<Record<string, string>>;
  /** A hosts file with {@link hosts}, for `withPrivateHosts`. */
  readonly hostsFile: string;
  /** An agent for in-process clients: trusts the test CA and resolves the fake host names. */
  readonly agent: Agent;
  /** Writes an AzureStackCloud environment file pointing at the doubles; returns its path. */
  writeCloudFile(name?: string): string;
  /** Stops the doubles and removes the files. */
  dispose(): Promise<void>;
}

/**
 * Starts the test CA, the fake Key Vault and the fake Entra ID. With `port443`, a random loopback
 * address that is already taken (another run) is replaced by a fresh one, up to 5 times.
 */
export async function startFakeAzure(props: FakeAzureProps): Promise<FakeAzure> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(props);
    } catch (error) {
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!props.port443 || !taken || attempt >= 5) throw error;
    }
  }
}

async function startOnce(props: FakeAzureProps): Promise<FakeAzure> {
  const dir = mkdtempSync(join(tmpdir(), 'aks-ss-fake-azure-'));
  const ca = props.ca ?? TestCa.create({ dir });
  const suffix = props.keyVaultDnsSuffix ?? 'vault.fake.test';
  const loginHost = props.loginHost ?? 'login.fake.test';
  const vaultNames = props.vaultNames ?? ['kv1'];
  const vaultAddress = props.port443 ? randomLoopbackAddress() : '127.0.0.1';
  let entraAddress = props.port443 ? randomLoopbackAddress() : '127.0.0.1';
  while (props.port443 && entraAddress === vaultAddress) entraAddress = randomLoopbackAddress();
  const port = props.port443 ? 443 : 0;

  // Go MSAL asks login.microsoftonline.com for instance discovery of an unknown authority host, so
  // the Entra double answers that name too (only inside the private hosts file / agent lookup).
  const entraNames = [...new Set([loginHost, 'login.microsoftonline.com'])];
  const entraCert = ca.issueServerCertificate({ dnsNames: entraNames, ipAddresses: [entraAddress] });
  const vaultCert = ca.issueServerCertificate({
    dnsNames: [`*.${suffix}`, suffix],
    ipAddresses: [vaultAddress],
  });
  const entra = await FakeEntra.start({ ...entraCert, host: entraAddress, port }).catch((error: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const entraPort = entra.address.port;
  const authorityHost = `https://${loginHost}${entraPort === 443 ? '' : `:${entraPort}`}`;
  let vault: FakeKeyVault;
  try {
    vault = await FakeKeyVault.start({
      ...vaultCert,
      host: vaultAddress,
      port,
      dnsSuffixes: [suffix],
      tenantId: props.tenantId,
      authority: authorityHost,
      latencyMs: props.keyVaultLatencyMs,
      resource: props.keyVaultResource,
    });
  } catch (error) {
    await entra.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const vaultPort = vault.address.port;
  const keyVaultDnsSuffix = vaultPort === 443 ? suffix : `${suffix}:${vaultPort}`;

  const hosts: Record<string, string> = { [suffix]: vaultAddress };
  for (const name of vaultNames) hosts[`${name}.${suffix}`] = vaultAddress;
  for (const name of entraNames) hosts[name] = entraAddress;
  const hostsFile = writeHostsFile(dir, hosts);
  const agent = ca.agent({ lookup: staticLookup({ ...hosts, [`*.${suffix}`]: vaultAddress }) as never });

  return {
    ca,
    vault,
    entra,
    dir,
    authorityHost,
    keyVaultDnsSuffix,
    hosts,
    hostsFile,
    agent,
    writeCloudFile(name = 'AzureStackCloud'): string {
      const path = join(dir, `${name}.json`);
      const cloud = {
        name,
        managementPortalURL: `${authorityHost}/portal/`,
        publishSettingsURL: `${authorityHost}/publishsettings/`,
        serviceManagementEndpoint: `${authorityHost}/`,
        resourceManagerEndpoint: `${authorityHost}/arm/`,
        activeDirectoryEndpoint: `${authorityHost}/`,
        galleryEndpoint: `${authorityHost}/gallery/`,
        keyVaultEndpoint: `https://${keyVaultDnsSuffix}/`,
        graphEndpoint: `${authorityHost}/graph/`,
        serviceBusEndpoint: `${authorityHost}/servicebus/`,
        batchManagementEndpoint: `${authorityHost}/batch/`,
        storageEndpointSuffix: 'storage.fake.test',
        sqlDatabaseDNSSuffix: 'database.fake.test',
        trafficManagerDNSSuffix: 'trafficmanager.fake.test',
        keyVaultDNSSuffix: keyVaultDnsSuffix,
        serviceBusEndpointSuffix: 'servicebus.fake.test',
        serviceManagementVMDNSSuffix: 'cloudapp.fake.test',
        resourceManagerVMDNSSuffix: 'cloudapp.fake.test',
        containerRegistryDNSSuffix: 'azurecr.fake.test',
        tokenAudience: `${authorityHost}/arm/`,
        resourceIdentifiers: { keyVault: `https://${suffix}` },
      };
      writeFileSync(path, JSON.stringify(cloud, null, 2));
      return path;
    },
    async dispose(): Promise<void> {
      agent.destroy();
      await Promise.all([vault.close(), entra.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
