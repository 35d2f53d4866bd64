// Azure cloud environments, as go-autorest names them (the upstream provider's `cloudName`), and
// Azure Stack / custom clouds from a JSON file. The file is read per request from the path the
// request names (`cloudEnvFileName`) or the process environment (`AZURE_ENVIRONMENT_FILEPATH`);
// unlike upstream, nothing is written to the process environment, so concurrent mounts of
// different SecretProviderClasses cannot see each other's cloud.
import { promises as fs } from 'node:fs';

/** The endpoints the provider uses from a cloud environment. */
export interface CloudEnvironment {
  /** Name as in the environment (e.g. `AzurePublicCloud`, or the custom file's `name`). */
  readonly name: string;
  /** Entra ID authority host, e.g. `https://login.microsoftonline.com/`. */
  readonly activeDirectoryEndpoint: string;
  /** Key Vault resource, e.g. `https://vault.azure.net/` (the pod-identity token resource). */
  readonly keyVaultEndpoint: string;
  /** Vault host suffix: vault URL = `https://<name>.<suffix>/`. */
  readonly keyVaultDNSSuffix: string;
  /** True for a cloud read from a file (AzureStackCloud). */
  readonly custom: boolean;
}

export const ENVIRONMENT_FILEPATH_VARIABLE = 'AZURE_ENVIRONMENT_FILEPATH';

const KNOWN_CLOUDS: Record<string, CloudEnvironment> = {
  AZUREPUBLICCLOUD: {
    name: 'AzurePublicCloud',
    activeDirectoryEndpoint: 'https://login.microsoftonline.com/',
    keyVaultEndpoint: 'https://vault.azure.net/',
    keyVaultDNSSuffix: 'vault.azure.net',
    custom: false,
  },
  AZUREUSGOVERNMENTCLOUD: {
    name: 'AzureUSGovernmentCloud',
    activeDirectoryEndpoint: 'https://login.microsoftonline.us/',
    keyVaultEndpoint: 'https://vault.usgovcloudapi.net/',
    keyVaultDNSSuffix: 'vault.usgovcloudapi.net',
    custom: false,
  },
  AZURECHINACLOUD: {
    name: 'AzureChinaCloud',
    activeDirectoryEndpoint: 'https://login.chinacloudapi.cn/',
    keyVaultEndpoint: 'https://vault.azure.cn/',
    keyVaultDNSSuffix: 'vault.azure.cn',
    custom: false,
  },
  AZUREGERMANCLOUD: {
    name: 'AzureGermanCloud',
    activeDirectoryEndpoint: 'https://login.microsoftonline.de/',
    keyVaultEndpoint: 'https://vault.microsoftazure.de/',
    keyVaultDNSSuffix: 'vault.microsoftazure.de',
    custom: false,
  },
};

/** Go's encoding/json matches object keys to fields case-insensitively; so do we. */
function field(json: Record<string, unknown>, name: string): string {
  const key = Object.keys(json).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : json[key];
  return typeof value === 'string' ? value : '';
}

async function cloudFromFile(filePath: string): Promise<CloudEnvironment> {
  let text: string;
  try {
    text = await fs.readFile(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code);
    throw new Error(`open ${filePath}: ${reason}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`cloud environment file ${filePath} is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(
      `cloud environment file ${filePath} must hold a JSON object with name, activeDirectoryEndpoint, keyVaultEndpoint and keyVaultDNSSuffix`,
    );
  }
  const record = json as Record<string, unknown>;
  const cloud: CloudEnvironment = {
    name: field(record, 'name'),
    activeDirectoryEndpoint: field(record, 'activeDirectoryEndpoint'),
    keyVaultEndpoint: field(record, 'keyVaultEndpoint'),
    keyVaultDNSSuffix: field(record, 'keyVaultDNSSuffix'),
    custom: true,
  };
  // Upstream accepts an empty suffix and fails later on a URL like "https://vault./"; say it here.
  for (const required of ['activeDirectoryEndpoint', 'keyVaultDNSSuffix'] as const) {
    if (cloud[required] === '')
      throw new Error(
        `cloud environment file ${filePath} has no "${required}"; add it (see the AzureStackCloud file format)`,
      );
  }
  return cloud;
}

/** Options of a cloud lookup. */
export interface ResolveCloudProps {
  /** `cloudName` parameter (trimmed); '' means the default. */
  readonly cloudName: string;
  /** `cloudEnvFileName` parameter (trimmed); '' means the process environment's path. */
  readonly cloudEnvFileName: string;
  /** Cloud used when `cloudName` is empty (the `--cloud-name` flag). */
  readonly defaultCloud: CloudEnvironment;
  /** Process environment to read `AZURE_ENVIRONMENT_FILEPATH` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** go-autorest `EnvironmentFromName`, with the AzureStackCloud file read per request. */
export async function resolveCloud(props: ResolveCloudProps): Promise<CloudEnvironment> {
  if (props.cloudName === '') return props.defaultCloud;
  if (props.cloudName.toUpperCase() === 'AZURESTACKCLOUD') {
    const filePath =
      props.cloudEnvFileName || ((props.env ?? process.env)[ENVIRONMENT_FILEPATH_VARIABLE] ?? '');
    return cloudFromFile(filePath);
  }
  return knownCloud(props.cloudName);
}

/** A built-in cloud by name (case-insensitive); throws go-autorest's error text otherwise. */
export function knownCloud(name: string): CloudEnvironment {
  const upper = name.toUpperCase();
  const cloud = KNOWN_CLOUDS[upper];
  if (!cloud)
    throw new Error(
      `autorest/azure: There is no cloud environment matching the name ${JSON.stringify(upper)}`,
    );
  return cloud;
}
