// The Mount admission gate in the built provider process, against the harness/fakes Key Vault and
// Entra ID over real HTTPS: one namespace whose vault (or Entra ID) stalls sends more Mounts than the
// gate has slots; another namespace's Mount, sent after them, is answered while every stalled one still
// waits, and the stalled ones still end with their own deadline's answer naming what stalled.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { FakeAzure, startFakeAzure } from '../../../harness/fakes/fake-azure';
import { canUsePrivilegedLoopback } from '../../../harness/fakes/loopback-hosts';
import { waitUntil } from '../../../harness/rig/processes';
import { mountRequest, objectsYaml, POD_ATTRIBUTES } from './support/mount-request';
import { spawnProvider, SpawnedProvider } from './support/spawned-provider';

jest.setTimeout(120_000);

const TENANT = '6f1d2c3b-0000-4000-8000-00000000a001';
const STALLED_VAULT = 'kvstalled';
const CALM_VAULT = 'kvcalm';
/** The stalled namespace sends this many Mounts: three times the gate's slots. */
const STALLED_MOUNTS = 3;
const STALLED_DEADLINE_MS = 8_000;

function cannotRun(): boolean {
  if (canUsePrivilegedLoopback()) return false;
  if (process.env.CI === 'true')
    throw new Error('cannot run in CI: this suite needs root (unshare --mount for a private /etc/hosts)');
  console.warn(
    'mount admission process suite not run here: it needs root (unshare --mount for a private /etc/hosts)',
  );
  return true;
}
const skipHere = cannotRun();

let azure: FakeAzure;
let provider: SpawnedProvider;
let cloudFile: string;
const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-admission-'));
let identities = 0;

function newIdentity(): { clientid: string; clientsecret: string } {
  const sp = {
    clientid: `sp-admission-${++identities}`,
    clientsecret: `admission-secret-${randomBytes(8).toString('hex')}`,
  };
  azure.entra.addClientSecret({ tenantId: TENANT, clientId: sp.clientid, clientSecret: sp.clientsecret });
  return sp;
}

function request(
  namespace: string,
  vault: string,
  objectName: string,
  identity: { clientid: string; clientsecret: string } = newIdentity(),
) {
  return mountRequest({
    parameters: {
      ...POD_ATTRIBUTES,
      'csi.storage.k8s.io/pod.namespace': namespace,
      keyvaultName: vault,
      tenantID: TENANT,
      cloudName: 'AzureStackCloud',
      cloudEnvFileName: cloudFile,
      objects: objectsYaml([{ objectName, objectType: 'secret' }]),
    },
    secrets: identity,
    withPodInfo: false,
  });
}

/** Starts a Mount and records when (in which order) it settled. */
function started<T>(promise: Promise<T>, settled: string[], name: string): Promise<T> {
  return promise.finally(() => settled.push(name));
}

/** Polls a fake's counter (bounded: 10 s). */
const eventually = (check: () => boolean, what: string) =>
  waitUntil(async () => check(), { what, timeoutMs: 10_000, intervalMs: 50 });

beforeAll(async () => {
  if (skipHere) return;
  azure = await startFakeAzure({ tenantId: TENANT, vaultNames: [STALLED_VAULT, CALM_VAULT] });
  cloudFile = azure.writeCloudFile();
  provider = await spawnProvider({
    hostsFile: azure.hostsFile,
    env: azure.ca.childEnv(),
    socketPath: path.join(socketDir, 'azure.sock'),
    args: [
      '--mount-admission-slots=1',
      '--mount-admission-lease=1s',
      '--keyvault-timeout=30s',
      `--cloud-env-file-dir=${azure.dir}`,
    ],
  });
});

afterAll(async () => {
  await provider?.stop();
  await azure?.dispose();
  fs.rmSync(socketDir, { recursive: true, force: true });
});

afterEach(() => {
  if (skipHere) return;
  azure.vault.clearFaults();
  azure.entra.clearFaults();
});

describe('the Mount admission gate in the provider process', () => {
  it("a namespace whose vault stalls holds no other namespace's Mount; its own Mounts still get their deadline's answer", async () => {
    if (skipHere) return;
    azure.vault.setSecret(STALLED_VAULT, 'stuck', 'stuck-value');
    const calmValue = `calm-${randomBytes(6).toString('hex')}`;
    azure.vault.setSecret(CALM_VAULT, 'calm', calmValue);
    azure.vault.injectFault({ kind: 'stall', count: 100, match: new RegExp(`^${STALLED_VAULT}/`) });
    const settled: string[] = [];
    const stalled = Array.from({ length: STALLED_MOUNTS }, (_, i) =>
      started(
        provider.client.mountError(request('tenant-stalled', STALLED_VAULT, 'stuck'), STALLED_DEADLINE_MS),
        settled,
        `stalled-${i}`,
      ),
    );
    await eventually(() => azure.vault.stats().inFlight >= 1, 'the first stalled Mount reaches its vault');
    const calm = await started(
      provider.client.mount(request('tenant-calm', CALM_VAULT, 'calm'), 30_000),
      settled,
      'calm',
    );
    expect(calm.files[0].contents.toString()).toBe(calmValue);
    expect(settled).toEqual(['calm']);
    for (const err of await Promise.all(stalled)) {
      expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      // "no answer from Key Vault kvstalled (…)", or, while its token request was still out, Entra ID's "… for Key Vault kvstalled (…)".
      expect(err.details).toContain(`Key Vault ${STALLED_VAULT} (`);
    }
  });

  it("a namespace whose Entra ID token request stalls holds no other namespace's Mount", async () => {
    if (skipHere) return;
    azure.vault.setSecret(STALLED_VAULT, 'no-token', 'no-token-value');
    const calmValue = `calm-entra-${randomBytes(6).toString('hex')}`;
    azure.vault.setSecret(CALM_VAULT, 'calm-entra', calmValue);
    azure.entra.injectFault({ kind: 'stall', count: 1, stallMs: 20_000 });
    const before = azure.entra.stats().tokenRequests;
    const settled: string[] = [];
    // One identity: its Mounts share the one stalled token request.
    const stuck = newIdentity();
    const stalled = Array.from({ length: STALLED_MOUNTS }, (_, i) =>
      started(
        provider.client.mountError(
          request('tenant-stalled', STALLED_VAULT, 'no-token', stuck),
          STALLED_DEADLINE_MS,
        ),
        settled,
        `stalled-${i}`,
      ),
    );
    await eventually(() => azure.entra.stats().tokenRequests > before, 'the first stalled token request');
    // Entra ID answers the next request again; the stalled one stays stalled.
    const calm = await started(
      provider.client.mount(request('tenant-calm', CALM_VAULT, 'calm-entra'), 30_000),
      settled,
      'calm',
    );
    expect(calm.files[0].contents.toString()).toBe(calmValue);
    expect(settled).toEqual(['calm']);
    const errors = await Promise.all(stalled);
    for (const err of errors) expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The first one waited on the stalled token request itself.
    expect(errors[0].details).toContain('no answer from Entra ID');
  });
});
