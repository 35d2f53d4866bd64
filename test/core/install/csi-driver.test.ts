import { csiDriver } from '../../../lib/core/install/csi-driver';
import { validateKubeObject } from './offline-validation';

const specOf = (o: ReturnType<typeof csiDriver>) => o.spec as Record<string, unknown>;

describe('csiDriver', () => {
  it('matches the snapshot', () => {
    expect(csiDriver()).toMatchSnapshot();
  });

  it('has the upstream name and kubelet contract', () => {
    const driver = csiDriver();
    expect(driver.metadata.name).toBe('secrets-store.csi.k8s.io');
    expect(driver.metadata.namespace).toBeUndefined();
    expect(specOf(driver)).toMatchObject({
      podInfoOnMount: true,
      attachRequired: false,
      volumeLifecycleModes: ['Ephemeral'],
    });
    // Upstream's chart leaves fsGroupPolicy to the apiserver default.
    expect(specOf(driver).fsGroupPolicy).toBeUndefined();
    expect(() => validateKubeObject(driver)).not.toThrow();
  });

  it('requires republish only when rotation is on', () => {
    expect(specOf(csiDriver()).requiresRepublish).toBe(true);
    expect(specOf(csiDriver({ enableSecretRotation: false })).requiresRepublish).toBe(false);
  });

  it('requests the workload-identity token by default, the identity-binding token on request, none when both are off', () => {
    expect(specOf(csiDriver()).tokenRequests).toEqual([{ audience: 'api://AzureADTokenExchange' }]);
    expect(specOf(csiDriver({ identityBinding: true })).tokenRequests).toEqual([
      { audience: 'api://AzureADTokenExchange' },
      { audience: 'api://AKSIdentityBinding' },
    ]);
    expect(specOf(csiDriver({ workloadIdentity: false })).tokenRequests).toBeUndefined();
  });

  it('moves tokens into NodePublish secrets only when asked and only with token requests', () => {
    expect(specOf(csiDriver()).serviceAccountTokenInSecrets).toBeUndefined();
    expect(specOf(csiDriver({ serviceAccountTokenInSecrets: true })).serviceAccountTokenInSecrets).toBe(true);
    expect(
      specOf(csiDriver({ serviceAccountTokenInSecrets: true, workloadIdentity: false }))
        .serviceAccountTokenInSecrets,
    ).toBeUndefined();
  });
});
