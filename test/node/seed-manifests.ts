// The seed's own manifests (shared/seed/csi-secrets-store-configuration-options.md), read from the seed
// document itself so the node tests run exactly what a reader of the seed would apply.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { KubeObject } from '../../lib/core/kube-object';

const SEED_FILE = path.join('seed', 'csi-secrets-store-configuration-options.md');

/** shared/ sits beside the repository (the team's checkouts and CI's fresh clone alike). */
function seedDocument(): string {
  const file = path.resolve(__dirname, '..', '..', '..', 'shared', SEED_FILE);
  if (!fs.existsSync(file))
    throw new Error(`the seed document is not at ${file} (shared/ beside the repository)`);
  return fs.readFileSync(file, 'utf8');
}

/** Every ```yml block of the seed, parsed. */
function seedYamlBlocks(): KubeObject[] {
  const blocks = [...seedDocument().matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((match) =>
    // The blocks are indented under list items in the document.
    match[1].replace(/^ {4}/gm, ''),
  );
  return blocks.map((block) => parse(block) as KubeObject);
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
