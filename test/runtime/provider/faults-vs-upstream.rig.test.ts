// A bad day for Key Vault and Entra ID, sent to our provider process and to the real upstream provider
// (built by harness/rig/build.sh), both behind the same fake Key Vault and Entra ID (harness/fakes: the
// real protocols over HTTPS on port 443 of loopback, under the public-cloud-shaped names of the parity
// world), through the real gRPC client with a driver's deadline. Each row injects one fault, sends a
// Mount to ours and asserts what the pod would see and what is kept; then the same fault to upstream,
// whose answer is recorded beside ours (docs/security.md, "The fault table", quotes the printed table).
// Stalls are repeated to show that no socket and no memory stays behind them.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fakeServiceAccountToken,
  objectsYaml,
  ParityWorld,
  startParityWorld,
  TENANT_ID,
  VAULT,
  WI_CLIENT_ID,
} from '../../../harness/provider/parity-world';
import {
  MountInput,
  MountOutcome,
  ourProviderCommand,
  ProviderProcess,
  upstreamProviderBinary,
  upstreamProviderCommand,
  whyProvidersCannotRun,
} from '../../../harness/provider/provider-process';

jest.setTimeout(300_000);

const reason = whyProvidersCannotRun();
if (reason && process.env.CI === 'true') throw new Error(`provider fault suite cannot run: ${reason}`);

const DEADLINE_EXCEEDED = 4;
/** The deadline of the Mounts that are meant to run out of time (the driver passes kubelet's, ~2 min). */
const SHORT_DEADLINE_MS = 5_000;
/** The deadline of the others: long enough for every retry either provider makes. */
const LONG_DEADLINE_MS = 60_000;
/** How often a stall is repeated before sockets and memory are compared. */
const STALL_REPEATS = 5;

let world: ParityWorld;
let ours: ProviderProcess;
let upstream: ProviderProcess;
const neverShown: string[] = [];
const table: Array<{ fault: string; ours: string; upstream: string; kept: string }> = [];

type Who = 'ours' | 'upstream';
const providers = (): Record<Who, ProviderProcess> => ({ ours, upstream });

/** A fresh service principal: its first Mount needs a token from Entra ID (on either provider). */
function newServicePrincipal(): { clientid: string; clientsecret: string } {
  const sp = { clientid: randomUUID(), clientsecret: `fault-sp-${randomBytes(12).toString('hex')}` };
  world.azure.entra.addClientSecret({
    tenantId: TENANT_ID,
    clientId: sp.clientid,
    clientSecret: sp.clientsecret,
  });
  neverShown.push(sp.clientsecret);
  return sp;
}

/** A fresh secret in the vault; returns its name and value. */
function newSecret(label: string): { name: string; value: string } {
  const name = `${label}-${randomBytes(3).toString('hex')}`;
  const value = `${name}-value-${randomBytes(8).toString('hex')}`;
  world.azure.vault.setSecret(VAULT, name, value);
  neverShown.push(value);
  return { name, value };
}

function spMount(objectName: string, sp = newServicePrincipal()): MountInput {
  return {
    parameters: { ...world.baseParameters, objects: objectsYaml([{ objectName, objectType: 'secret' }]) },
    secrets: sp,
  };
}

const gets = (name: string) => world.azure.vault.stats().byPath[`${VAULT}/secrets/${name}/`] ?? 0;
const only = (name: string) => new RegExp(`^${VAULT}/secrets/${name}/`);

function outcomeText(outcome: MountOutcome): string {
  if (outcome.ok) return `its files (${outcome.files.map((f) => f.contents.length).join(', ')} bytes)`;
  const code =
    ({ 2: 'Unknown', 4: 'DeadlineExceeded', 14: 'Unavailable' } as Record<number, string>)[
      outcome.grpcCode
    ] ?? `code ${outcome.grpcCode}`;
  return `${code}: ${outcome.message}`;
}

/** Sockets the process holds open (/proc/<pid>/fd entries that are sockets). */
function openSockets(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // Closed while listing.
    }
  }
  return count;
}

async function eventually(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not within ${ms / 1000} s: ${what}`);
}

const elapsed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const started = Date.now();
  const value = await run();
  return [value, Date.now() - started];
};

function noSecretIn(text: string): void {
  for (const value of neverShown) expect(text).not.toContain(value);
}

/** The same fault, given to upstream after ours; its answer for the table. */
async function upstreamAnswer(
  inject: () => void,
  input: () => MountInput,
  deadlineMs: number,
): Promise<string> {
  world.azure.vault.clearFaults();
  world.azure.entra.clearFaults();
  inject();
  const [outcome, ms] = await elapsed(() => upstream.mount(input(), deadlineMs));
  world.azure.vault.clearFaults();
  world.azure.entra.clearFaults();
  return `${outcomeText(outcome)} (after ${(ms / 1000).toFixed(1)} s)`;
}

/** The next Mount of a fresh identity and object is served. */
async function servesTheNextRequest(provider: ProviderProcess): Promise<void> {
  const next = newSecret('next');
  const outcome = await provider.mount(spMount(next.name), LONG_DEADLINE_MS);
  if (!outcome.ok) throw new Error(`${provider.name} did not serve the next Mount: ${outcome.message}`);
  expect(outcome.files[0].contents.toString()).toBe(next.value);
}

beforeAll(async () => {
  if (reason) return;
  world = await startParityWorld();
  const common = { hostsFile: world.azure.hostsFile, env: world.providerEnv };
  [ours, upstream] = await Promise.all([
    ProviderProcess.start({ name: 'ours', ...ourProviderCommand([...world.ourProviderFlags]), ...common }),
    ProviderProcess.start({
      name: 'upstream',
      ...upstreamProviderCommand(upstreamProviderBinary()),
      ...common,
    }),
  ]);
  // Both have mounted once (clients, connections and code paths warm) before anything is measured.
  for (const provider of Object.values(providers())) await servesTheNextRequest(provider);
});

afterEach(() => {
  if (reason) return;
  world.azure.vault.clearFaults();
  world.azure.entra.clearFaults();
  world.azure.vault.latencyMs = 0;
  world.azure.entra.latencyMs = 0;
});

afterAll(async () => {
  if (!reason && table.length > 0) {
    const path = join(tmpdir(), 'aks-secrets-store-provider-faults.json');
    writeFileSync(path, JSON.stringify(table, null, 2));
    const cell = (text: string) =>
      text.replace(/\s+/g, ' ').replace(/-{5,}/g, '—').replace(/\|/g, '\\|').slice(0, 400);
    console.log(
      [
        `provider faults: ${table.length} rows; report ${path}`,
        '| fault | ours (what the pod sees) | upstream v1.8.2 | what is kept (ours) |',
        '| --- | --- | --- | --- |',
        ...table.map((r) => `| ${cell(r.fault)} | ${cell(r.ours)} | ${cell(r.upstream)} | ${cell(r.kept)} |`),
      ].join('\n'),
    );
  }
  await Promise.all([ours?.stop(), upstream?.stop()]);
  await world?.dispose();
});

describe('Key Vault faults, ours beside upstream', () => {
  it('429 with Retry-After: 1, twice: honoured, then the files', async () => {
    if (reason) return;
    const secret = newSecret('throttled');
    world.azure.vault.injectFault({ kind: 429, count: 2, retryAfterSeconds: 1, match: only(secret.name) });
    const [outcome, ms] = await elapsed(() => ours.mount(spMount(secret.name), LONG_DEADLINE_MS));
    expect(outcome.ok && outcome.files[0].contents.toString()).toBe(secret.value);
    expect(gets(secret.name)).toBe(3);
    // Two waits of Retry-After: 1 s each.
    expect(ms).toBeGreaterThanOrEqual(2_000);
    const other = newSecret('throttled-up');
    const upstreamText = await upstreamAnswer(
      () =>
        world.azure.vault.injectFault({ kind: 429, count: 2, retryAfterSeconds: 1, match: only(other.name) }),
      () => spMount(other.name),
      LONG_DEADLINE_MS,
    );
    table.push({
      fault: 'Key Vault 429 `Retry-After: 1`, twice',
      ours: `${outcomeText(outcome)} after ${(ms / 1000).toFixed(1)} s, ${gets(secret.name)} GETs`,
      upstream: `${upstreamText}, ${gets(other.name)} GETs`,
      kept: 'the vault’s token bucket holds every Mount of that vault until Retry-After',
    });
  });

  it('429 with a Retry-After past the Mount’s deadline: answered before the deadline, naming the vault', async () => {
    if (reason) return;
    const secret = newSecret('throttled-long');
    world.azure.vault.injectFault({ kind: 429, count: 100, retryAfterSeconds: 30, match: only(secret.name) });
    const [outcome, ms] = await elapsed(() => ours.mount(spMount(secret.name), SHORT_DEADLINE_MS));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.grpcCode).toBe(DEADLINE_EXCEEDED);
    expect(outcome.message).toMatch(
      new RegExp(
        `^failed to mount objects, error: failed to get objectType:secret, objectName:${secret.name}, objectVersion:: Key Vault ${VAULT} \\(https://${VAULT}\\.[^)]+/\\) throttled this provider \\(429\\) and its Retry-After holds the vault's calls [\\d.]+ s past the driver's deadline of [\\d.]+ s \\(this provider answers [\\d.]+ s before it\\); nothing was mounted; the kubelet retries the mount$`,
      ),
    );
    // The wait for Retry-After ended with the Mount: no GET after the deadline.
    expect(ms).toBeLessThan(SHORT_DEADLINE_MS);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(gets(secret.name)).toBe(1);
    world.azure.vault.clearFaults();
    // Key Vault told this client to wait 30 s: ours holds every Mount of that vault until then.
    const [, nextMs] = await elapsed(() => servesTheNextRequest(ours));
    const other = newSecret('throttled-long-up');
    const upstreamText = await upstreamAnswer(
      () =>
        world.azure.vault.injectFault({
          kind: 429,
          count: 100,
          retryAfterSeconds: 30,
          match: only(other.name),
        }),
      () => spMount(other.name),
      SHORT_DEADLINE_MS,
    );
    table.push({
      fault: `Key Vault 429 \`Retry-After: 30\` on every GET; the Mount's deadline is ${SHORT_DEADLINE_MS / 1000} s`,
      ours: `${outcomeText(outcome)} (after ${(ms / 1000).toFixed(1)} s, 1 GET)`,
      upstream: `${upstreamText}, ${gets(other.name)} GETs`,
      kept: `no GET after the deadline; the vault's next Mount (another identity, another object) waits out the Retry-After and is served ${(nextMs / 1000).toFixed(1)} s later`,
    });
  });

  it('503 on every GET: bounded retries, then Key Vault’s answer; failures are not cached', async () => {
    if (reason) return;
    const secret = newSecret('broken');
    const sp = newServicePrincipal();
    world.azure.vault.injectFault({ kind: 503, count: 100, match: only(secret.name) });
    const [outcome, ms] = await elapsed(() => ours.mount(spMount(secret.name, sp), LONG_DEADLINE_MS));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.grpcCode).toBe(2);
    expect(outcome.message).toContain(`objectName:${secret.name}, objectVersion:: Key Vault returned 503`);
    // 1 + --keyvault-max-retries (3 by default).
    const attempts = gets(secret.name);
    expect(attempts).toBe(4);
    world.azure.vault.clearFaults();
    const recovered = await ours.mount(spMount(secret.name, sp), LONG_DEADLINE_MS);
    expect(recovered.ok && recovered.files[0].contents.toString()).toBe(secret.value);
    const other = newSecret('broken-up');
    const upstreamText = await upstreamAnswer(
      () => world.azure.vault.injectFault({ kind: 503, count: 100, match: only(other.name) }),
      () => spMount(other.name),
      LONG_DEADLINE_MS,
    );
    table.push({
      fault: 'Key Vault 503 on every GET',
      ours: `${outcomeText(outcome)} (after ${(ms / 1000).toFixed(1)} s, ${attempts} GETs)`,
      upstream: `${upstreamText}, ${gets(other.name)} GETs`,
      kept: 'nothing cached for the object; the next Mount after recovery gets its files',
    });
  });

  it(`a stall past the deadline, ${STALL_REPEATS} times: a clear answer naming the vault, no socket or memory left behind`, async () => {
    if (reason) return;
    const socketsBefore = openSockets(ours.pid);
    const rssBefore = ours.rssKiB();
    let last: MountOutcome | undefined;
    let lastMs = 0;
    let name = '';
    for (let i = 0; i < STALL_REPEATS; i++) {
      const secret = newSecret('stalled');
      name = secret.name;
      world.azure.vault.injectFault({ kind: 'stall', count: 1, match: only(secret.name) });
      [last, lastMs] = await elapsed(() => ours.mount(spMount(secret.name), SHORT_DEADLINE_MS));
      expect(last.ok).toBe(false);
      if (last.ok) return;
      expect(last.grpcCode).toBe(DEADLINE_EXCEEDED);
      expect(last.message).toContain(
        `objectName:${secret.name}, objectVersion:: no answer from Key Vault ${VAULT} (https://${VAULT}.`,
      );
      // The provider dropped the GET nobody waits for.
      await eventually(() => world.azure.vault.stats().inFlight === 0, 'the stalled GET is closed by ours');
      // The same object, fault gone: served at once.
      const retry = await ours.mount(spMount(secret.name), LONG_DEADLINE_MS);
      expect(retry.ok && retry.files[0].contents.toString()).toBe(secret.value);
    }
    const socketsAfter = openSockets(ours.pid);
    const rssAfter = ours.rssKiB();
    // One pool per vault host and identity set: a stalled connection is destroyed, not kept.
    expect(socketsAfter).toBeLessThanOrEqual(socketsBefore + 2);
    expect(rssAfter - rssBefore).toBeLessThan(32 * 1024);
    const upstreamSocketsBefore = openSockets(upstream.pid);
    const other = newSecret('stalled-up');
    const upstreamText = await upstreamAnswer(
      () => world.azure.vault.injectFault({ kind: 'stall', count: 1, match: only(other.name) }),
      () => spMount(other.name),
      SHORT_DEADLINE_MS,
    );
    let upstreamReleased = 'its stalled GET closed';
    await eventually(
      () => world.azure.vault.stats().inFlight === 0,
      'the stalled GET is closed by upstream',
    ).catch(() => (upstreamReleased = 'its stalled GET still open 20 s after the deadline'));
    table.push({
      fault: `Key Vault stalls (no answer) past the Mount's ${SHORT_DEADLINE_MS / 1000} s deadline, ${STALL_REPEATS} times`,
      ours: `${outcomeText(last!)} (after ${(lastMs / 1000).toFixed(1)} s)`,
      upstream: `${upstreamText}; ${upstreamReleased}; sockets ${upstreamSocketsBefore} → ${openSockets(upstream.pid)}`,
      kept: `the stalled GET closed each time; the same object mounts right after; sockets ${socketsBefore} → ${socketsAfter}, RSS ${rssBefore} → ${rssAfter} KiB`,
    });
    expect(name).not.toBe('');
  });
});

describe('Entra ID faults, ours beside upstream', () => {
  it('slow (2 s per answer): the Mount waits and gets its files', async () => {
    if (reason) return;
    const secret = newSecret('entra-slow');
    world.azure.entra.latencyMs = 2_000;
    const [outcome, ms] = await elapsed(() => ours.mount(spMount(secret.name), LONG_DEADLINE_MS));
    expect(outcome.ok && outcome.files[0].contents.toString()).toBe(secret.value);
    const other = newSecret('entra-slow-up');
    const upstreamText = await upstreamAnswer(
      () => undefined,
      () => spMount(other.name),
      LONG_DEADLINE_MS,
    );
    table.push({
      fault: 'Entra ID answers every request after 2 s',
      ours: `${outcomeText(outcome)} after ${(ms / 1000).toFixed(1)} s`,
      upstream: upstreamText,
      kept: 'one token request per identity, reused until 5 min before it expires',
    });
  });

  it('down (503 to every token request): a new identity gets Entra ID’s answer; a known one keeps mounting', async () => {
    if (reason) return;
    const known = newServicePrincipal();
    const first = newSecret('entra-known');
    const warm = await ours.mount(spMount(first.name, known), LONG_DEADLINE_MS);
    expect(warm.ok).toBe(true);
    const stranger = newServicePrincipal();
    const fresh = newSecret('entra-down');
    world.azure.entra.injectFault({ kind: 503, count: 1000 });
    const outcome = await ours.mount(spMount(fresh.name, stranger), LONG_DEADLINE_MS);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.message).toMatch(
      new RegExp(
        `^failed to mount objects, error: failed to get objectType:secret, objectName:${fresh.name}`,
      ),
    );
    expect(outcome.message).toContain('AADSTS50196');
    noSecretIn(outcome.message);
    // The known identity holds its token: a new object of it is fetched from Key Vault.
    const again = await ours.mount(spMount(fresh.name, known), LONG_DEADLINE_MS);
    expect(again.ok && again.files[0].contents.toString()).toBe(fresh.value);
    const other = newSecret('entra-down-up');
    const upstreamText = await upstreamAnswer(
      () => world.azure.entra.injectFault({ kind: 503, count: 1000 }),
      () => spMount(other.name),
      LONG_DEADLINE_MS,
    );
    table.push({
      fault: 'Entra ID answers 503 (AADSTS50196) to every token request',
      ours: outcomeText(outcome),
      upstream: upstreamText,
      kept: 'identities holding a token keep mounting, new objects included',
    });
  });

  it('stalled past the deadline: a clear answer naming Entra ID and the client, then the next Mount works', async () => {
    if (reason) return;
    const secret = newSecret('entra-stall');
    const sp = newServicePrincipal();
    world.azure.entra.injectFault({ kind: 'stall', count: 1, stallMs: 20_000 });
    const [outcome, ms] = await elapsed(() => ours.mount(spMount(secret.name, sp), SHORT_DEADLINE_MS));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.grpcCode).toBe(DEADLINE_EXCEEDED);
    expect(outcome.message).toContain(
      `objectName:${secret.name}, objectVersion:: no answer from Entra ID (${world.azure.authorityHost.replace(/\/+$/, '')}/${TENANT_ID}) to the token request for Key Vault ${VAULT}`,
    );
    world.azure.entra.clearFaults();
    const retry = await ours.mount(spMount(secret.name, sp), LONG_DEADLINE_MS);
    expect(retry.ok && retry.files[0].contents.toString()).toBe(secret.value);
    const other = newSecret('entra-stall-up');
    const upstreamText = await upstreamAnswer(
      () => world.azure.entra.injectFault({ kind: 'stall', count: 1, stallMs: 20_000 }),
      () => spMount(other.name),
      SHORT_DEADLINE_MS,
    );
    table.push({
      fault: `Entra ID stalls the token request past the Mount's ${SHORT_DEADLINE_MS / 1000} s deadline`,
      ours: `${outcomeText(outcome)} (after ${(ms / 1000).toFixed(1)} s)`,
      upstream: upstreamText,
      kept: 'the token request is abandoned with the Mount; the next Mount asks again and gets its files',
    });
  });

  it('a workload identity’s exchange stalled past the deadline names Entra ID and the client id', async () => {
    if (reason) return;
    const secret = newSecret('wi-stall');
    const input = (): MountInput => ({
      parameters: {
        ...world.baseParameters,
        objects: objectsYaml([{ objectName: secret.name, objectType: 'secret' }]),
        clientID: WI_CLIENT_ID,
        // A token never presented before, so the provider must exchange it.
        'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
          'api://AzureADTokenExchange': {
            token: fakeServiceAccountToken(
              'system:serviceaccount:default:default',
              'api://AzureADTokenExchange',
              `pod-${randomBytes(4).toString('hex')}`,
            ),
            expirationTimestamp: '2099-01-01T00:00:00Z',
          },
        }),
      },
      secrets: null,
    });
    world.azure.entra.injectFault({ kind: 'stall', count: 1, stallMs: 20_000 });
    const outcome = await ours.mount(input(), SHORT_DEADLINE_MS);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.grpcCode).toBe(DEADLINE_EXCEEDED);
    expect(outcome.message).toContain(
      `no answer from Entra ID (${world.azure.authorityHost.replace(/\/+$/, '')}/${TENANT_ID}) to the token request of client ${WI_CLIENT_ID}`,
    );
    expect(outcome.message).not.toContain('eyJ');
    world.azure.entra.clearFaults();
    const retry = await ours.mount(input(), LONG_DEADLINE_MS);
    expect(retry.ok && retry.files[0].contents.toString()).toBe(secret.value);
    const upstreamText = await upstreamAnswer(
      () => world.azure.entra.injectFault({ kind: 'stall', count: 1, stallMs: 20_000 }),
      input,
      SHORT_DEADLINE_MS,
    );
    table.push({
      fault: `Entra ID stalls a workload identity's token exchange past the ${SHORT_DEADLINE_MS / 1000} s deadline`,
      ours: outcomeText(outcome),
      upstream: upstreamText,
      kept: 'nothing cached is served to the unaccepted token; the next Mount exchanges it and gets its files',
    });
  });

  const aadsts: Array<{ code: string; fault: string; input: () => MountInput }> = [
    {
      code: 'AADSTS7000215',
      fault: 'Entra ID refuses the client secret (AADSTS7000215)',
      input: () => {
        const sp = newServicePrincipal();
        return spMount(newSecret('aadsts-secret').name, { ...sp, clientsecret: `${sp.clientsecret}-wrong` });
      },
    },
    {
      code: 'AADSTS700016',
      fault: 'Entra ID does not know the client id (AADSTS700016)',
      input: () =>
        spMount(newSecret('aadsts-client').name, {
          clientid: randomUUID(),
          clientsecret: 'x-never-registered',
        }),
    },
    {
      code: 'AADSTS70021',
      fault: "Entra ID finds no federated credential for the service account's subject (AADSTS70021)",
      input: () => ({
        parameters: {
          ...world.baseParameters,
          objects: objectsYaml([{ objectName: newSecret('aadsts-fic').name, objectType: 'secret' }]),
          clientID: WI_CLIENT_ID,
          'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
            'api://AzureADTokenExchange': {
              token: fakeServiceAccountToken(
                'system:serviceaccount:other:intruder',
                'api://AzureADTokenExchange',
              ),
              expirationTimestamp: '2099-01-01T00:00:00Z',
            },
          }),
        },
        secrets: null,
      }),
    },
  ];

  test.each(aadsts.map((row) => [row.code, row] as const))(
    '%s: Entra ID’s answer, no secret, the next Mount works',
    async (_code, row) => {
      if (reason) return;
      const input = row.input();
      neverShown.push(...Object.values(input.secrets ?? {}).filter((v) => v.startsWith('fault-sp-')));
      const outcome = await ours.mount(input, LONG_DEADLINE_MS);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.grpcCode).toBe(2);
      expect(outcome.message).toMatch(
        /^failed to mount objects, error: failed to get objectType:secret, objectName:aadsts-/,
      );
      expect(outcome.message).toContain(row.code);
      noSecretIn(outcome.message);
      expect(outcome.message).not.toContain('eyJ');
      await servesTheNextRequest(ours);
      const upstreamOutcome = await upstream.mount(row.input(), LONG_DEADLINE_MS);
      table.push({
        fault: row.fault,
        ours: outcomeText(outcome),
        upstream: outcomeText(upstreamOutcome),
        kept: 'nothing is cached for the refused identity; other identities are not affected',
      });
    },
  );
});

describe('after the faults', () => {
  it('both providers serve, and ours printed no secret value or client secret in any log line', async () => {
    if (reason) return;
    for (const provider of Object.values(providers())) await servesTheNextRequest(provider);
    noSecretIn(ours.logs());
  });
});
