// Azure cloud environments, as go-autorest names them (the upstream provider's `cloudName`), and
// Azure Stack / custom clouds from a JSON file. The file is read per request from the path the
// request names (`cloudEnvFileName`) or the process environment (`AZURE_ENVIRONMENT_FILEPATH`);
// unlike upstream, nothing is written to the process environment, so concurrent mounts of
// different SecretProviderClasses cannot see each other's cloud.
// A pod author names `cloudEnvFileName`, and the provider runs as root: upstream reads any path
// whole (`/dev/zero` kills it; a JSON error quotes a byte of any file). Here a request may only name
// a regular file inside the directory the administrator gives with --cloud-env-file-dir (none by
// default), at most 64 KiB, and no error shows a byte of it.
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MOUNT_LIMITS } from './request-limits';

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
  /**
   * The resource Key Vault tokens are for (`resourceIdentifiers.keyVault`; scope `<it>/.default`),
   * as the vault's 401 challenge names it.
   */
  readonly keyVaultResource: string;
  /** True for a cloud read from a file (AzureStackCloud). */
  readonly custom: boolean;
}

export const ENVIRONMENT_FILEPATH_VARIABLE = 'AZURE_ENVIRONMENT_FILEPATH';

const KNOWN_CLOUDS: Record<string, CloudEnvironment> = {
  AZUREPUBLICCLOUD: {
    name: 'AzurePublicCloud',
    activeDirectoryEndpoint: 'https://login.microsoftonline.com/',
    keyVaultEndpoint: 'https://vault.azure.net/',
    keyVaultResource: 'https://vault.azure.net',
    keyVaultDNSSuffix: 'vault.azure.net',
    custom: false,
  },
  AZUREUSGOVERNMENTCLOUD: {
    name: 'AzureUSGovernmentCloud',
    activeDirectoryEndpoint: 'https://login.microsoftonline.us/',
    keyVaultEndpoint: 'https://vault.usgovcloudapi.net/',
    keyVaultResource: 'https://vault.usgovcloudapi.net',
    keyVaultDNSSuffix: 'vault.usgovcloudapi.net',
    custom: false,
  },
  AZURECHINACLOUD: {
    name: 'AzureChinaCloud',
    activeDirectoryEndpoint: 'https://login.chinacloudapi.cn/',
    keyVaultEndpoint: 'https://vault.azure.cn/',
    keyVaultResource: 'https://vault.azure.cn',
    keyVaultDNSSuffix: 'vault.azure.cn',
    custom: false,
  },
  AZUREGERMANCLOUD: {
    name: 'AzureGermanCloud',
    activeDirectoryEndpoint: 'https://login.microsoftonline.de/',
    keyVaultEndpoint: 'https://vault.microsoftazure.de/',
    keyVaultResource: 'https://vault.microsoftazure.de',
    keyVaultDNSSuffix: 'vault.microsoftazure.de',
    custom: false,
  },
};

/** The object under `name` (case-insensitive), or an empty one. */
function asRecord(json: Record<string, unknown>, name: string): Record<string, unknown> {
  const key = Object.keys(json).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : json[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Go's encoding/json matches object keys to fields case-insensitively; so do we. */
function field(json: Record<string, unknown>, name: string): string {
  const key = Object.keys(json).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : json[key];
  return typeof value === 'string' ? value : '';
}

function openError(filePath: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'ELOOP'
            ? 'is a symbolic link'
            : String(code);
  return new Error(`open ${filePath}: ${reason}`);
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}

/** `requested` resolved inside `directory`, symbolic links followed; throws when it leaves it. */
async function pathInside(directory: string, requested: string, flag: string): Promise<string> {
  const outside = () =>
    new Error(
      `cloudEnvFileName ${JSON.stringify(requested)} is not inside ${directory}, the directory this provider reads cloud environment files from (${flag}); name a file in it`,
    );
  const root = await fs.realpath(directory).catch(() => path.resolve(directory));
  const lexical = path.resolve(root, requested);
  // Nothing outside the directory is touched, not even to see whether it exists.
  if (!isInside(root, lexical)) throw outside();
  let real: string;
  try {
    real = await fs.realpath(lexical);
  } catch (err) {
    throw openError(requested, err);
  }
  if (!isInside(root, real)) throw outside();
  return real;
}

/**
 * The bytes of `handle` from offset 0, or undefined when there are more than `limit`. The buffer starts at
 * `sizeHint` + 1 bytes (the stat's size; the extra byte sees a file that grew after the stat) and doubles
 * up to `limit` + 1 only when the file is longer: a buffer of `limit` bytes for a file of a few hundred was
 * the provider's largest live malloc block in bench/provider (heaptrack: 61 × 64 KiB while Mounts of
 * AzureStackCloud SPCs ran, each reading this file).
 */
export async function readAtMost(
  handle: fs.FileHandle,
  sizeHint: number,
  limit: number,
): Promise<Buffer | undefined> {
  let buffer = Buffer.alloc(Math.min(Math.max(0, sizeHint), limit) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      const grown = Buffer.alloc(Math.min(limit + 1, buffer.length * 2));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) return buffer.subarray(0, length);
    length += bytesRead;
    if (length > limit) return undefined;
  }
}

/** The file's text: a regular file of at most 64 KiB (FIFOs, devices and /proc files are refused). */
async function readBoundedFile(filePath: string, shownAs: string): Promise<string> {
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not hang the Mount; O_NOFOLLOW: the last element stays what was checked.
    handle = await fs.open(filePath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
  } catch (err) {
    throw openError(shownAs, err);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new Error(`read ${shownAs}: is a directory`);
    if (!stat.isFile()) throw new Error(`cloud environment file ${shownAs} is not a regular file`);
    const limit = MOUNT_LIMITS.cloudEnvFileBytes;
    const tooLarge = (size: number | string) =>
      new Error(
        `cloud environment file ${shownAs} is ${size} bytes, more than the ${limit} a cloud environment file may have`,
      );
    if (stat.size > limit) throw tooLarge(stat.size);
    const bytes = await readAtMost(handle, stat.size, limit);
    if (!bytes) throw tooLarge(`more than ${limit}`);
    return bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Where cloud environment files may come from. */
export interface CloudFileRules {
  /** Directory requests may name files in (--cloud-env-file-dir); '' refuses `cloudEnvFileName`. */
  readonly directory: string;
  /** The flag that sets it, for messages. @default '--cloud-env-file-dir' */
  readonly flag?: string;
}

async function cloudFromFile(filePath: string, shownAs = filePath): Promise<CloudEnvironment> {
  const text = await readBoundedFile(filePath, shownAs);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the bytes it stopped at: never shown.
    throw new Error(`cloud environment file ${shownAs} is not valid JSON`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(
      `cloud environment file ${shownAs} must hold a JSON object with name, activeDirectoryEndpoint, keyVaultEndpoint and keyVaultDNSSuffix`,
    );
  }
  const record = json as Record<string, unknown>;
  const cloud: CloudEnvironment = {
    name: field(record, 'name'),
    activeDirectoryEndpoint: field(record, 'activeDirectoryEndpoint'),
    keyVaultEndpoint: field(record, 'keyVaultEndpoint'),
    keyVaultDNSSuffix: field(record, 'keyVaultDNSSuffix'),
    keyVaultResource: (
      field(asRecord(record, 'resourceIdentifiers'), 'keyVault') || field(record, 'keyVaultEndpoint')
    ).replace(/\/+$/, ''),
    custom: true,
  };
  // Upstream accepts an empty suffix and fails later on a URL like "https://vault./"; say it here.
  for (const required of ['activeDirectoryEndpoint', 'keyVaultDNSSuffix'] as const) {
    if (cloud[required] === '')
      throw new Error(
        `cloud environment file ${shownAs} has no "${required}"; add it (see the AzureStackCloud file format)`,
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
  /** Where `cloudEnvFileName` may point. @default none: the parameter is refused */
  readonly files?: CloudFileRules;
}

/**
 * go-autorest `EnvironmentFromName`, with the AzureStackCloud file read per request: the request's
 * `cloudEnvFileName` inside the administrator's directory, else the administrator's
 * AZURE_ENVIRONMENT_FILEPATH.
 */
export async function resolveCloud(props: ResolveCloudProps): Promise<CloudEnvironment> {
  if (props.cloudName === '') return props.defaultCloud;
  if (props.cloudName.toUpperCase() !== 'AZURESTACKCLOUD') return knownCloud(props.cloudName);
  if (props.cloudEnvFileName === '') {
    const fromEnvironment = (props.env ?? process.env)[ENVIRONMENT_FILEPATH_VARIABLE] ?? '';
    return cloudFromFile(fromEnvironment);
  }
  const directory = props.files?.directory ?? '';
  const flag = props.files?.flag ?? '--cloud-env-file-dir';
  if (directory === '')
    throw new Error(
      `cloudEnvFileName is not accepted by this provider: it reads cloud environment files only from the directory its ${flag} flag names, and that flag is not set; ask the node administrator to set it (or to set ${ENVIRONMENT_FILEPATH_VARIABLE} for the whole node) and remove cloudEnvFileName otherwise`,
    );
  const real = await pathInside(directory, props.cloudEnvFileName, flag);
  return cloudFromFile(real, props.cloudEnvFileName);
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
