import { Testing } from 'cdk8s';
import { csiVolumeSource, Pod, readOnlyCsiVolume, Volume } from '../../lib/cdk8s/plus';
import { byKind, Manifest } from './fixtures';

// lib/cdk8s/plus.ts relies on one cdk8s-plus internal: a pod renders each volume by calling that
// volume's `_toKube()`, whose result for `Volume.fromCsi` is `{ name, csi: {...} }`. If a cdk8s-plus
// release renames or reshapes it, these fail before a user's nodePublishSecretRef silently disappears.

describe('the cdk8s-plus internal plus.ts relies on', () => {
  test('Volume.fromCsi renders through _toKube() as { name, csi }', () => {
    const chart = Testing.chart();
    const volume = Volume.fromCsi(chart, 'v', 'secrets-store.csi.k8s.io', {
      name: 'store',
      readOnly: true,
      attributes: { secretProviderClass: 'spc' },
    });
    expect(typeof (Volume.prototype as { _toKube?: unknown })._toKube).toBe('function');
    expect(volume._toKube()).toEqual({
      name: 'store',
      csi: {
        driver: 'secrets-store.csi.k8s.io',
        fsType: undefined,
        readOnly: true,
        volumeAttributes: { secretProviderClass: 'spc' },
      },
    });
  });

  test('csiVolumeSource reads the driver and attributes a CSI volume renders, and nothing from other volumes', () => {
    const chart = Testing.chart();
    const volume = readOnlyCsiVolume(chart, 'v', {
      name: 'store',
      driver: 'secrets-store.csi.k8s.io',
      attributes: { secretProviderClass: 'spc' },
      nodePublishSecretName: 'sp-creds',
    });
    expect(csiVolumeSource(volume)).toEqual({
      driver: 'secrets-store.csi.k8s.io',
      attributes: { secretProviderClass: 'spc' },
    });
    expect(csiVolumeSource(Volume.fromEmptyDir(chart, 'e', 'scratch'))).toBeUndefined();
  });

  test("a pod renders its volumes with the volume's own _toKube, so the nodePublishSecretRef reaches the manifest", () => {
    const chart = Testing.chart();
    const volume = readOnlyCsiVolume(chart, 'v', {
      name: 'store',
      driver: 'secrets-store.csi.k8s.io',
      attributes: { secretProviderClass: 'spc' },
      nodePublishSecretName: 'sp-creds',
    });
    const pod = new Pod(chart, 'p');
    pod.addContainer({ image: 'nginx' }).mount('/mnt/secrets-store', volume, { readOnly: true });
    const [out] = byKind(Testing.synth(chart) as Manifest[], 'Pod');
    expect(out.spec.volumes).toEqual([
      {
        name: 'store',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'spc' },
          nodePublishSecretRef: { name: 'sp-creds' },
        },
      },
    ]);
  });

  test('without a secret the volume is exactly what cdk8s-plus renders', () => {
    const chart = Testing.chart();
    const volume = readOnlyCsiVolume(chart, 'v', {
      name: 'store',
      driver: 'secrets-store.csi.k8s.io',
      attributes: {},
    });
    expect(Object.prototype.hasOwnProperty.call(volume, '_toKube')).toBe(false);
  });
});
