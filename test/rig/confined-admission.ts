// The rig's apiserver is shared by every test file of a run, and the install's admission policy binding
// applies to the whole cluster: once one file applied it, another file's deliberately incomplete
// SecretProviderClass (a fixture, not a user's) was refused. Files that apply an install for real bind the
// policy to their own namespaces only, under a binding name of their own, so they do not overwrite each other.
import type { KubeObject } from '../../lib/core/kube-object';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** `objects` with every ValidatingAdmissionPolicyBinding renamed `<name>-<owner>` and matching only `namespaces`. */
export function withAdmissionConfinedTo(
  objects: readonly KubeObject[],
  owner: string,
  namespaces: readonly string[],
): KubeObject[] {
  if (namespaces.length === 0) throw new Error('withAdmissionConfinedTo: name at least one namespace');
  return objects.map((object) => {
    if (object.kind !== 'ValidatingAdmissionPolicyBinding') return object;
    const spec = (object as { spec?: Record<string, unknown> }).spec ?? {};
    const matchResources = (spec.matchResources as Record<string, unknown> | undefined) ?? {};
    return {
      ...object,
      metadata: { ...object.metadata, name: `${object.metadata.name}-${owner}` },
      spec: {
        ...spec,
        matchResources: {
          ...matchResources,
          namespaceSelector: {
            matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...namespaces] }],
          },
        },
      },
    } as KubeObject;
  });
}
