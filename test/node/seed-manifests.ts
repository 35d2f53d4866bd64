// The seed's own manifests (shared/seed/csi-secrets-store-configuration-options.md): its SecretProviderClass
// and pod, so the node tests run exactly what a reader of the seed would apply. They are kept verbatim in
// seed-manifests.yaml (a clone need not have shared/ beside it); whenever the document is there, the copy
// must equal the document's blocks, so an edited seed cannot drift from what the tests run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../lib/core/kube-object';

const SEED_DOCUMENT = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'shared',
  'seed',
  'csi-secrets-store-configuration-options.md',
);
const SEED_COPY = path.join(__dirname, 'seed-manifests.yaml');

/** The copied objects, checked against the seed document when it is beside the repository. */
function seedYamlBlocks(): KubeObject[] {
  const copied = parseAllDocuments(fs.readFileSync(SEED_COPY, 'utf8')).map((doc) => doc.toJS() as KubeObject);
  if (fs.existsSync(SEED_DOCUMENT)) {
    const inDocument = [...fs.readFileSync(SEED_DOCUMENT, 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].map(
      // The blocks are indented under list items in the document.
      (match) => parse(match[1].replace(/^ {4}/gm, '')) as KubeObject,
    );
    for (const object of copied) {
      const twin = inDocument.find(
        (o) => o?.kind === object.kind && o.metadata?.name === object.metadata?.name,
      );
      if (JSON.stringify(twin) !== JSON.stringify(object))
        throw new Error(
          `${SEED_COPY} no longer matches the seed document ${SEED_DOCUMENT} for ${object.kind} ${object.metadata?.name}: copy the block again`,
        );
    }
  }
  return copied;
}

function seedObject(kind: string, name: string): KubeObject {
  const object = seedYamlBlocks().find((o) => o?.kind === kind && o.metadata?.name === name);
  if (!object) throw new Error(`the seed document has no ${kind} ${name}`);
  return object;
}

/** The seed's SecretProviderClass `azure-sync`, as written (the seed says it is incomplete: no identity). */
export function seedSecretProviderClass(): KubeObject {
  return seedObject('SecretProviderClass', 'azure-sync');
}

/** The seed's pod `busybox-secrets-store-inline`, as written. */
export function seedPod(): KubeObject {
  return seedObject('Pod', 'busybox-secrets-store-inline');
}
