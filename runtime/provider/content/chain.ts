// Orders the certificates of a PFX leaf → intermediates → root by authority/subject key identifier,
// the upstream `--construct-pem-chain` algorithm: first matching parent wins, the leaf is the first
// certificate that is nobody's parent, a walk longer than the list is a cycle, and an incomplete
// chain keeps the original order.
import { keyIdentifiers } from './x509-key-ids';

/** Outcome of ordering. `complete` is false when the original order was kept. */
export interface OrderedChain {
  readonly certificates: Buffer[];
  readonly complete: boolean;
}

export function orderCertificateChain(certificates: readonly Buffer[]): OrderedChain {
  const ids = certificates.map((der) => keyIdentifiers(der));
  const parent: Array<number | undefined> = new Array(certificates.length).fill(undefined);
  const isParent: boolean[] = new Array(certificates.length).fill(false);
  for (let i = 0; i < certificates.length; i++) {
    for (let j = 0; j < certificates.length; j++) {
      if (i === j) continue;
      const aki = ids[i].authorityKeyId;
      const ski = ids[j].subjectKeyId;
      // A leaf's key ids are optional (RFC 3280): two absent ids are not a match.
      if (aki === undefined && ski === undefined) continue;
      if (Buffer.compare(aki ?? Buffer.alloc(0), ski ?? Buffer.alloc(0)) === 0) {
        isParent[j] = true;
        parent[i] = j;
        break;
      }
    }
  }
  let current = isParent.findIndex((p) => !p);
  if (current < 0) throw new Error('no leaf found');
  const ordered: Buffer[] = [];
  let steps = 0;
  for (let node: number | undefined = current; node !== undefined; node = parent[node]) {
    steps++;
    if (steps > certificates.length) throw new Error('constructing chain resulted in cycle');
    ordered.push(certificates[node]);
    current = node;
  }
  if (ordered.length !== certificates.length) return { certificates: [...certificates], complete: false };
  return { certificates: ordered, complete: true };
}
