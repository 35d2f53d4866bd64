import { readFileSync } from 'fs';
import { join } from 'path';
import { defaultRuntimeImage, resolveInstallImages } from '../../../lib/core/install';

const version = (
  JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }
).version;

describe('resolveInstallImages', () => {
  it('defaults driver and provider to our runtime image tagged with the package version', () => {
    expect(defaultRuntimeImage()).toBe(`ghcr.io/aks-secrets-store/runtime:${version}`);
    expect(resolveInstallImages()).toEqual({
      runtimeImage: true,
      driver: `ghcr.io/aks-secrets-store/runtime:${version}`,
      provider: `ghcr.io/aks-secrets-store/runtime:${version}`,
      nodeDriverRegistrar: 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.16.0',
      livenessProbe: 'registry.k8s.io/sig-storage/livenessprobe:v2.18.0',
      windowsDriver: 'registry.k8s.io/csi-secrets-store/driver:v1.6.0',
      windowsProvider: 'mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.8.2',
      imagePullPolicy: 'IfNotPresent',
    });
  });

  it('switches to the pinned upstream pair', () => {
    expect(resolveInstallImages({ useUpstreamImages: true })).toMatchObject({
      runtimeImage: false,
      driver: 'registry.k8s.io/csi-secrets-store/driver:v1.6.0',
      provider: 'mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.8.2',
    });
  });

  it('accepts registry ports, digests and private registries as overrides', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const images = resolveInstallImages({
      driverImage: `localhost:5000/aks-secrets-store/runtime@${digest}`,
      providerImage: 'myacr.azurecr.io/runtime:0.1.0-rc.1',
      nodeDriverRegistrarImage: 'mirror.example.com/sig-storage/csi-node-driver-registrar:v2.16.0',
    });
    expect(images.driver).toBe(`localhost:5000/aks-secrets-store/runtime@${digest}`);
    expect(images.provider).toBe('myacr.azurecr.io/runtime:0.1.0-rc.1');
    expect(images.nodeDriverRegistrar).toBe(
      'mirror.example.com/sig-storage/csi-node-driver-registrar:v2.16.0',
    );
    expect(images.runtimeImage).toBe(true);
  });
});
