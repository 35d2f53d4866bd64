import { renderSelfHostedInstall } from '../../../lib/core/install';
import { KubeObject } from '../../../lib/core/kube-object';
import { find } from './install-test-helpers';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const rulesOf = (role: KubeObject) => role.rules as Rule[];
const verbsFor = (role: KubeObject, resource: string) =>
  rulesOf(role)
    .filter((r) => r.resources.includes(resource))
    .flatMap((r) => r.verbs)
    .sort();

describe('RBAC (upstream v1.6)', () => {
  const objects = renderSelfHostedInstall();

  it('matches the snapshot of every role and binding', () => {
    expect(objects.filter((o) => o.apiVersion.startsWith('rbac.'))).toMatchSnapshot();
  });

  it('gives the driver only the verbs its code sends, and no token or secret access', () => {
    const role = find(objects, 'ClusterRole', 'secretproviderclasses-role');
    expect(verbsFor(role, 'events')).toEqual(['create', 'patch']);
    expect(verbsFor(role, 'pods')).toEqual(['get', 'list', 'watch']); // this node's pods, watched
    expect(verbsFor(role, 'secretproviderclasses')).toEqual(['get', 'list', 'watch']);
    expect(verbsFor(role, 'secretproviderclasspodstatuses')).toEqual([
      'create',
      'delete',
      'get',
      'list',
      'update',
    ]);
    expect(verbsFor(role, 'secretproviderclasspodstatuses/status')).toEqual([]);
    expect(rulesOf(role).find((r) => r.resources.includes('csidrivers'))).toEqual({
      apiGroups: ['storage.k8s.io'],
      resources: ['csidrivers'],
      resourceNames: ['secrets-store.csi.k8s.io'],
      verbs: ['get', 'list', 'watch'],
    });
    expect(verbsFor(role, 'secrets')).toEqual([]);
    expect(verbsFor(role, 'serviceaccounts/token')).toEqual([]);
  });

  it('grants Secret access only through the sync role, bound to the driver, without delete or patch', () => {
    const role = find(objects, 'ClusterRole', 'secretprovidersyncing-role');
    expect(rulesOf(role)).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'list', 'update', 'watch'] },
    ]);
    const binding = find(objects, 'ClusterRoleBinding', 'secretprovidersyncing-rolebinding');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'secretprovidersyncing-role',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'secrets-store-csi-driver', namespace: 'kube-system' },
    ]);
  });

  it('aggregates SPC write access into admin/edit and read access into view; nobody else may write SPCPS', () => {
    const admin = find(objects, 'ClusterRole', 'secretproviderclasses-admin-role');
    expect(admin.metadata.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
    });
    expect(admin.metadata.labels).not.toHaveProperty('rbac.authorization.k8s.io/aggregate-to-view');
    expect(verbsFor(admin, 'secretproviderclasses')).toContain('create');

    const viewer = find(objects, 'ClusterRole', 'secretproviderclasses-viewer-role');
    expect(viewer.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    expect(verbsFor(viewer, 'secretproviderclasses')).toEqual(['get', 'list', 'watch']);

    const spcpsViewer = find(objects, 'ClusterRole', 'secretproviderclasspodstatuses-viewer-role');
    expect(spcpsViewer.metadata.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
    });
    expect(verbsFor(spcpsViewer, 'secretproviderclasspodstatuses')).toEqual(['get', 'list', 'watch']);

    const aggregated = objects.filter((o) =>
      Object.keys(o.metadata.labels ?? {}).some((l) =>
        l.startsWith('rbac.authorization.k8s.io/aggregate-to-'),
      ),
    );
    for (const role of aggregated) {
      for (const rule of rulesOf(role).filter((r) =>
        r.resources.includes('secretproviderclasspodstatuses'),
      )) {
        expect(rule.verbs).toEqual(['get', 'list', 'watch']);
      }
    }
  });

  it('gives the provider a ServiceAccount and no role (it never calls the Kubernetes API)', () => {
    expect(find(objects, 'ServiceAccount', 'csi-secrets-store-provider-azure').metadata.namespace).toBe(
      'kube-system',
    );
    const subjects = objects
      .filter((o) => o.kind === 'ClusterRoleBinding')
      .flatMap((o) => o.subjects as { name: string }[])
      .map((s) => s.name);
    expect(subjects).not.toContain('csi-secrets-store-provider-azure');
  });
});
