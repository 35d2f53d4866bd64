// A Mount whose call ends while it still waits in the admission gate says it never started: how long
// it waited, what ran and waited ahead of it, the slots flag and the fix; DEADLINE_EXCEEDED when the
// provider answers ahead of the driver's deadline, UNKNOWN (upstream's) when the driver cancelled;
// nothing of the request (secret, namespace, vault) in the text. The MountService with its real
// parsing and gate; the slot is held by a Mount of another namespace, so nothing reaches Key Vault.
// And the gate's two log lines (a queue that stays non-empty, then empties), none per Mount.
import { status as grpcStatus } from '@grpc/grpc-js';
import { Logger } from '../../../runtime/common/logging/logger';
import { knownCloud } from '../../../runtime/provider/clouds';
import { ProviderMetrics } from '../../../runtime/provider/metrics';
import { MountService } from '../../../runtime/provider/mount';
import { Admission } from '../../../runtime/provider/mount-admission';
import { abortBeforeDeadline } from '../../../runtime/provider/mount-deadline';
import { MountFailure } from '../../../runtime/provider/mount-failure';
import { mountRequest, objectsYaml, POD_ATTRIBUTES } from './support/mount-request';
import { counterValue } from './support/spawned-provider';

const CLIENT_SECRET = 'queued-client-secret-value-9f2c';

function request(namespace: string) {
  return mountRequest({
    parameters: {
      ...POD_ATTRIBUTES,
      'csi.storage.k8s.io/pod.namespace': namespace,
      keyvaultName: 'kv-queued-vault',
      tenantID: '6f1d2c3b-0000-4000-8000-00000000b001',
      objects: objectsYaml([{ objectName: 'queued-object', objectType: 'secret' }]),
    },
    secrets: { clientid: 'queued-client-id', clientsecret: CLIENT_SECRET },
    withPodInfo: false,
  });
}

let service: MountService;
let metrics: ProviderMetrics;
const logs: string[] = [];
const holders: Admission[] = [];

beforeEach(() => {
  metrics = new ProviderMetrics();
  service = new MountService({
    constructPemChain: false,
    writeCertAndKeyInSeparateFiles: false,
    defaultCloud: knownCloud('AzurePublicCloud'),
    logger: new Logger({ sink: (line) => logs.push(line) }),
    metrics,
    // No spare-CPU ticks: an idle test process would let the waiting Mount in.
    admission: { slots: 2, tickMs: 0 },
  });
});

afterEach(() => {
  for (const holder of holders.splice(0)) holder.release();
  service.close();
});

/** Fills the gate's slots with Mounts of another namespace, and queues `waiting` more behind them. */
async function fillGate(waiting: number): Promise<void> {
  holders.push(await service.admission.admit('holder-ns'), await service.admission.admit('holder-ns'));
  for (let i = 0; i < waiting; i++) void service.admission.admit('earlier-ns').then((a) => holders.push(a));
}

async function failure(promise: Promise<unknown>): Promise<MountFailure> {
  const err = await promise.then(
    () => new Error('the Mount succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MountFailure);
  return err as MountFailure;
}

describe('a Mount that never got its turn', () => {
  it('whose deadline passes while it waits: DEADLINE_EXCEEDED, with its wait, what was ahead and the fix', async () => {
    await fillGate(3);
    const controller = new AbortController();
    const started = Date.now();
    abortBeforeDeadline(started + 1500, controller, started);
    const err = await failure(service.mountCall(request('team-queued'), { signal: controller.signal }));
    expect(err.grpcCode).toBe(grpcStatus.DEADLINE_EXCEEDED);
    expect(err.reason).toBe('cancelled');
    expect(err.message).toMatch(
      /^failed to mount objects, error: the Mount waited 1\.\d s in this provider's admission queue \(2 Mounts running, --mount-admission-slots=2; 3 Mounts waiting ahead of it\) and the driver's deadline of 1\.5 s passed before it started \(this provider answers 0\.3 s before it\); nothing was mounted; the kubelet retries the mount; raise the provider's CPU limit \(providerResources\.limits\.cpu of the install\) or --mount-admission-slots so Mounts start sooner$/,
    );
    for (const leaked of [CLIENT_SECRET, 'team-queued', 'kv-queued-vault', 'queued-object'])
      expect(err.message).not.toContain(leaked);
    expect(service.admission.waiting).toBe(3);
    const text = await metrics.registry.metrics();
    expect(counterValue(text, 'mount_admission_wait_seconds_count', { outcome: 'deadline' })).toBe(1);
    expect(counterValue(text, 'mount_admission_wait_seconds_sum', { outcome: 'deadline' })).toBeGreaterThan(
      1,
    );
    expect(counterValue(text, 'mount_admission_waiting')).toBe(3);
    // One Mount: no log line of its own (the server logs each failed call once).
    expect(logs).toEqual([]);
  });

  it('whose driver cancels while it waits: the code stays UNKNOWN (upstream), the text says it never started', async () => {
    await fillGate(0);
    const controller = new AbortController();
    const pending = service.mountCall(request('team-cancelled'), { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort(new Error('the driver cancelled the Mount call'));
    const err = await failure(pending);
    expect(err.grpcCode).toBeUndefined();
    expect(err.reason).toBe('cancelled');
    expect(err.message).toMatch(
      /^failed to mount objects, error: the driver cancelled the Mount call after it waited 0\.\d s in this provider's admission queue \(2 Mounts running, --mount-admission-slots=2; 0 Mounts waiting ahead of it\), before it started; nothing was mounted; raise the provider's CPU limit/,
    );
    expect(err.message).not.toContain(CLIENT_SECRET);
    const text = await metrics.registry.metrics();
    expect(counterValue(text, 'mount_admission_wait_seconds_count', { outcome: 'cancelled' })).toBe(1);
  });

  it('a queue that stays non-empty is logged once at info, and once when it empties: never once per Mount', async () => {
    service.close();
    service = new MountService({
      constructPemChain: false,
      writeCertAndKeyInSeparateFiles: false,
      defaultCloud: knownCloud('AzurePublicCloud'),
      logger: new Logger({ sink: (line) => logs.push(line) }),
      metrics: new ProviderMetrics(),
      admission: { slots: 2, tickMs: 20, spareCpu: () => false, saturatedAfterMs: 200 },
    });
    logs.length = 0;
    await fillGate(3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const holder of holders.splice(0)) holder.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const holder of holders.splice(0)) holder.release();
    const lines = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [
        'info',
        "the admission queue has not been empty for `seconds`: Mounts wait for the provider's CPU; if this lasts, raise its CPU limit or --mount-admission-slots",
      ],
      ['info', 'the admission queue is empty again'],
    ]);
    expect(lines[0]).toMatchObject({ waiting: 3, running: 2, slots: 2, admittedAfterWaiting: 0 });
    expect(lines[1]).toMatchObject({ waiting: 0, admittedAfterWaiting: 3, endedWhileWaiting: 0 });
    expect(lines[0].seconds).toBeGreaterThanOrEqual(0.2);
  });
});
