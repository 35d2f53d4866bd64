// Secret sync against the real kube-apiserver and kube-controller-manager (its garbage collector):
// created, updated after rotation, re-created when deleted, removed through owner references when the
// owner goes, an unmanaged Secret left alone, TLS from PEM and PFX, metrics recorded, no secret value
// in Events or logs.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as forge from 'node-forge';
import * as os from 'os';
import * as path from 'path';
import { Registry } from 'prom-client';
import {
  EventRecorder,
  EVENTS,
  KubeClient,
  KubeEvent,
  KubeResourceObject,
  NAMESPACES,
  Pod,
  PODS,
  REPLICA_SETS,
  Secret,
  SECRET_PROVIDER_CLASSES,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  SecretProviderClass,
  SecretProviderClassPodStatus,
  SECRETS,
} from '../../../../runtime/driver/cluster/kube';
import {
  MANAGED_LABEL,
  SecretSyncController,
  SecretSyncMetrics,
  syncSecrets,
  SyncLogger,
} from '../../../../runtime/driver/secret-sync';
import {
  ensureSecretsStoreCrds,
  eventually,
  freshNamespace,
  rigKubeClient,
} from '../support/kube-test-support';

jest.setTimeout(180_000);

const SECRET_VALUES = ['s3cr3t-value-one', 's3cr3t-value-two', 'unmanaged-precious-value'];

let kube: KubeClient;
let namespace: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-sync-'));
const logLines: string[] = [];
const logger: SyncLogger = {
  info: (msg, fields) => logLines.push(JSON.stringify({ level: 'info', msg, ...fields })),
  warn: (msg, fields) => logLines.push(JSON.stringify({ level: 'warn', msg, ...fields })),
};
/** Events for direct syncSecrets calls, as the controller writes them. */
let recorder: EventRecorder;
const registry = new Registry();
const metrics = new SecretSyncMetrics(registry);

beforeAll(async () => {
  kube = rigKubeClient();
  recorder = new EventRecorder({ client: kube, component: 'csi-secrets-store-controller', host: 'node-1' });
  await ensureSecretsStoreCrds(kube);
  namespace = await freshNamespace(kube, 'secret-sync', true);
});

afterAll(async () => {
  // Nothing in this file may have written a secret value into a log line or an Event.
  await recorder.flush();
  const events = await kube.list<KubeEvent>(EVENTS, { namespace });
  const everything = JSON.stringify(events.items) + logLines.join('\n');
  for (const value of SECRET_VALUES) {
    expect(everything).not.toContain(value);
    expect(everything).not.toContain(Buffer.from(value).toString('base64'));
  }
  await kube.delete(NAMESPACES, namespace).catch(() => undefined);
  kube.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A mounted volume as the atomic writer leaves it: files by object name. */
function mountDir(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
  return dir;
}

async function createSpc(
  name: string,
  secretObjects: NonNullable<SecretProviderClass['spec']['secretObjects']>,
): Promise<SecretProviderClass> {
  return kube.create<SecretProviderClass>(SECRET_PROVIDER_CLASSES, {
    metadata: { name, namespace },
    spec: { provider: 'azure', parameters: { keyvaultName: 'kv' }, secretObjects },
  });
}

async function createPod(name: string, ownerReferences?: Pod['metadata']['ownerReferences']): Promise<Pod> {
  return kube.create<Pod>(PODS, {
    metadata: { name, namespace, ownerReferences },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
    },
  } as Pod);
}

/** A ReplicaSet that owns the pod without being its controller (replicas 0: the RS controller never touches the pod). */
async function createReplicaSet(name: string): Promise<KubeResourceObject> {
  return kube.create<KubeResourceObject>(REPLICA_SETS, {
    metadata: { name, namespace },
    spec: {
      replicas: 0,
      selector: { matchLabels: { rs: name } },
      template: {
        metadata: { labels: { rs: name } },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
      },
    },
  });
}

function ownerRef(o: KubeResourceObject, apiVersion: string, kind: string) {
  return { apiVersion, kind, name: o.metadata.name!, uid: o.metadata.uid! };
}

async function getSecret(name: string): Promise<Secret | undefined> {
  return kube.get<Secret>(SECRETS, name, namespace).catch(() => undefined);
}

function decoded(secret: Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}

const podRef = (pod: Pod) => ({ name: pod.metadata.name!, namespace, uid: pod.metadata.uid! });

describe('synced Secret of a ReplicaSet pod', () => {
  it('is created, updated after rotation, re-created when deleted, and removed by the garbage collector with its owner', async () => {
    const rs = await createReplicaSet('web');
    const pod = await createPod('web-1', [ownerRef(rs, 'apps/v1', 'ReplicaSet')]);
    const spc = await createSpc('web-spc', [
      {
        secretName: 'web-secret',
        type: 'Opaque',
        labels: { team: 'payments' },
        annotations: { 'example.com/note': 'synced' },
        data: [
          { objectName: 'password', key: 'PASSWORD' },
          { objectName: ' username ', key: 'USERNAME' },
        ],
      },
    ]);
    const targetPath = mountDir('web', { password: SECRET_VALUES[0], username: 'admin' });
    const controller = new SecretSyncController({
      kube,
      nodeName: 'node-1',
      metrics,
      logger,
      recreateDelayMs: 200,
    });
    await controller.start();
    try {
      const first = await controller.sync({ pod: podRef(pod), spc, targetPath });
      expect(first.secrets).toEqual([{ secretName: 'web-secret', outcome: 'created' }]);
      const created = await getSecret('web-secret');
      expect(created).toMatchObject({
        type: 'Opaque',
        metadata: {
          labels: { [MANAGED_LABEL]: 'true', team: 'payments' },
          annotations: { 'example.com/note': 'synced' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid }],
        },
      });
      expect(decoded(created, 'PASSWORD')).toBe(SECRET_VALUES[0]);
      expect(decoded(created, 'USERNAME')).toBe('admin');

      // Unchanged content: no write.
      expect((await controller.sync({ pod: podRef(pod), spc, targetPath })).secrets[0].outcome).toBe(
        'unchanged',
      );

      // A rotation check that changed nothing costs no API call once the volume is in sync.
      expect(
        (await controller.sync({ pod: podRef(pod), spc, targetPath, contentChanged: false })).secrets,
      ).toEqual([]);

      // Rotation: new file content → Secret updated, owners kept.
      fs.writeFileSync(path.join(targetPath, 'password'), SECRET_VALUES[1]);
      expect((await controller.sync({ pod: podRef(pod), spc, targetPath })).secrets[0].outcome).toBe(
        'updated',
      );
      const rotated = await getSecret('web-secret');
      expect(decoded(rotated, 'PASSWORD')).toBe(SECRET_VALUES[1]);
      expect(rotated?.metadata.ownerReferences).toHaveLength(1);

      // Deleted by someone: re-created from the mounted content.
      await kube.delete(SECRETS, 'web-secret', { namespace });
      const recreated = await eventually('web-secret re-created', async () => {
        const s = await getSecret('web-secret');
        return s && s.metadata.uid !== rotated?.metadata.uid ? s : undefined;
      });
      expect(decoded(recreated, 'PASSWORD')).toBe(SECRET_VALUES[1]);

      // The owner goes: the garbage collector removes the Secret (and the pod), and a resync does not bring it back.
      await kube.delete(REPLICA_SETS, 'web', { namespace, propagationPolicy: 'Background' });
      await eventually(
        'web-secret garbage-collected',
        async () => (await getSecret('web-secret')) === undefined,
        60_000,
      );
      await eventually(
        'pod garbage-collected',
        async () => (await kube.get(PODS, 'web-1', namespace).catch(() => undefined)) === undefined,
        60_000,
      );
      await controller.resyncAll();
      expect(await getSecret('web-secret')).toBeUndefined();
      expect(controller.trackedVolumes).toBe(0);
    } finally {
      await controller.stop();
    }
  });
});

describe('synced Secret of a bare pod', () => {
  it('is owned by the SecretProviderClassPodStatus and goes with the pod (pod → SPCPS → Secret)', async () => {
    const pod = await createPod('bare');
    const spc = await createSpc('bare-spc', [
      { secretName: 'bare-secret', type: 'Opaque', data: [{ objectName: 'token', key: 'token' }] },
    ]);
    const podStatus = await kube.create<SecretProviderClassPodStatus>(SECRET_PROVIDER_CLASS_POD_STATUSES, {
      metadata: {
        name: `bare-${namespace}-bare-spc`,
        namespace,
        labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' },
        ownerReferences: [ownerRef(pod, 'v1', 'Pod')],
      },
      status: {
        podName: 'bare',
        secretProviderClassName: 'bare-spc',
        mounted: true,
        targetPath: '/x',
        objects: [],
      },
    });
    const targetPath = mountDir('bare', { token: 'bare-token' });
    const result = await syncSecrets({ kube, spc, pod: podRef(pod), targetPath, metrics, logger });
    expect(result.secrets).toEqual([{ secretName: 'bare-secret', outcome: 'created' }]);
    expect((await getSecret('bare-secret'))?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClassPodStatus',
        name: podStatus.metadata.name,
        uid: podStatus.metadata.uid,
      },
    ]);
    await kube.delete(PODS, 'bare', { namespace });
    await eventually(
      'bare-secret garbage-collected',
      async () => (await getSecret('bare-secret')) === undefined,
      60_000,
    );
  });
});

describe('a Secret without the managed label', () => {
  it('is never changed; a Warning Event on the pod says why and what to do', async () => {
    await kube.create<Secret>(SECRETS, {
      metadata: { name: 'hand-made', namespace },
      type: 'Opaque',
      data: { PASSWORD: Buffer.from(SECRET_VALUES[2]).toString('base64') },
    });
    const rs = await createReplicaSet('hand');
    const pod = await createPod('hand-1', [ownerRef(rs, 'apps/v1', 'ReplicaSet')]);
    const spc = await createSpc('hand-spc', [
      { secretName: 'hand-made', type: 'Opaque', data: [{ objectName: 'password', key: 'PASSWORD' }] },
    ]);
    const controller = new SecretSyncController({ kube, nodeName: 'node-1', logger, watchSecrets: false });
    const result = await controller.sync({
      pod: podRef(pod),
      spc,
      targetPath: mountDir('hand', { password: SECRET_VALUES[0] }),
    });
    expect(result.secrets).toEqual([{ secretName: 'hand-made', outcome: 'unmanaged' }]);
    const untouched = await getSecret('hand-made');
    expect(decoded(untouched, 'PASSWORD')).toBe(SECRET_VALUES[2]);
    expect(untouched?.metadata.labels?.[MANAGED_LABEL]).toBeUndefined();
    expect(untouched?.metadata.ownerReferences).toBeUndefined();
    await controller.events.flush();
    const events = await kube.list<KubeEvent>(EVENTS, {
      namespace,
      fieldSelector: 'involvedObject.name=hand-1',
    });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({
      type: 'Warning',
      reason: 'FailedToCreateSecret',
      source: { component: 'csi-secrets-store-controller', host: 'node-1' },
    });
    expect(events.items[0].message).toContain(`exists without the label ${MANAGED_LABEL}=true`);
  });
});

describe('failures', () => {
  it('a missing file and a bad tls key each fail their Secret only, with upstream wording, as Warning Events', async () => {
    const rs = await createReplicaSet('fail');
    const pod = await createPod('fail-1', [ownerRef(rs, 'apps/v1', 'ReplicaSet')]);
    const spc = await createSpc('fail-spc', [
      { secretName: 'no-file', type: 'Opaque', data: [{ objectName: 'absent', key: 'k' }] },
      { secretName: 'bad-tls', type: 'kubernetes.io/tls', data: [{ objectName: 'cert', key: 'ca.crt' }] },
      { secretName: 'fine', type: 'Opaque', data: [{ objectName: 'cert', key: 'k' }] },
    ]);
    const result = await syncSecrets({
      kube,
      spc,
      pod: podRef(pod),
      targetPath: mountDir('fail', { cert: 'x' }),
      events: recorder,
      logger,
      metrics,
    });
    expect(result.secrets).toEqual([
      {
        secretName: 'no-file',
        outcome: 'failed',
        error: 'file matching objectName absent not found in the pod',
      },
      {
        secretName: 'bad-tls',
        outcome: 'failed',
        error: "key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported",
      },
      { secretName: 'fine', outcome: 'created' },
    ]);
    await recorder.flush();
    const events = await kube.list<KubeEvent>(EVENTS, {
      namespace,
      fieldSelector: 'involvedObject.name=fail-1',
    });
    expect(events.items.map((e) => e.reason)).toEqual(['FailedToCreateSecret', 'FailedToCreateSecret']);
    expect(events.items.map((e) => e.message).sort()).toEqual([
      `failed to sync secret ${namespace}/bad-tls for spc ${namespace}/fail-spc: key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported`,
      `failed to sync secret ${namespace}/no-file for spc ${namespace}/fail-spc: file matching objectName absent not found in the pod`,
    ]);
  });
});

describe('kubernetes.io/tls', () => {
  function rsaCertificate(): { certPem: string; keyPem: string; pfxBase64: string } {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '02';
    cert.validity.notBefore = new Date(Date.UTC(2026, 0, 1));
    cert.validity.notAfter = new Date(Date.UTC(2036, 0, 1));
    cert.setSubject([{ name: 'commonName', value: 'tls.example' }]);
    cert.setIssuer([{ name: 'commonName', value: 'tls.example' }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const pfx = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], '', { algorithm: '3des' });
    return {
      certPem: forge.pki.certificateToPem(cert),
      keyPem: crypto
        .createPrivateKey(forge.pki.privateKeyToPem(keys.privateKey))
        .export({ type: 'pkcs8', format: 'pem' }) as string,
      pfxBase64: forge.util.encode64(forge.asn1.toDer(pfx).getBytes()),
    };
  }

  it('gets tls.crt and a PKCS#1 tls.key from a PEM bundle and from a PFX, accepted by the API server', async () => {
    const material = rsaCertificate();
    const rs = await createReplicaSet('tls');
    const pod = await createPod('tls-1', [ownerRef(rs, 'apps/v1', 'ReplicaSet')]);
    const spc = await createSpc('tls-spc', [
      {
        secretName: 'tls-pem',
        type: 'kubernetes.io/tls',
        data: [
          { objectName: 'pem', key: 'tls.crt' },
          { objectName: 'pem', key: 'tls.key' },
        ],
      },
      {
        secretName: 'tls-pfx',
        type: 'kubernetes.io/tls',
        data: [
          { objectName: 'pfx', key: 'tls.crt' },
          { objectName: 'pfx', key: 'tls.key' },
        ],
      },
    ]);
    const targetPath = mountDir('tls', {
      pem: `${material.keyPem}${material.certPem}`,
      pfx: material.pfxBase64,
    });
    const result = await syncSecrets({ kube, spc, pod: podRef(pod), targetPath, logger, metrics });
    expect(result.secrets.map((s) => s.outcome)).toEqual(['created', 'created']);
    for (const name of ['tls-pem', 'tls-pfx']) {
      const secret = await getSecret(name);
      expect(secret?.type).toBe('kubernetes.io/tls');
      expect(new crypto.X509Certificate(decoded(secret, 'tls.crt')!).subject).toBe('CN=tls.example');
      const key = decoded(secret, 'tls.key')!;
      expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
      expect(
        new crypto.X509Certificate(decoded(secret, 'tls.crt')!).checkPrivateKey(crypto.createPrivateKey(key)),
      ).toBe(true);
    }
  });
});

describe('metrics', () => {
  it('records sync_k8s_secret_total by provider and sync_k8s_secret_duration_sec', async () => {
    const text = await registry.metrics();
    const total = /^sync_k8s_secret_total\{os_type="linux",provider="azure"\} (\d+)$/m.exec(text);
    expect(total).not.toBeNull();
    expect(Number(total![1])).toBeGreaterThanOrEqual(1);
    const count = /^sync_k8s_secret_duration_sec_count\{os_type="linux"\} (\d+)$/m.exec(text);
    expect(Number(count?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    expect(text).toContain('le="0.1"');
  });
});
