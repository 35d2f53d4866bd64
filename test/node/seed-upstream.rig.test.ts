// The seed on a real node with UPSTREAM's driver v1.6.1 and Azure provider v1.8.2 (the binaries the rig
// builds, in images of their own), the baseline of seed-ours.rig.test.ts: every scenario, same rig.
import { describeSeedOnNode } from './seed-scenarios';

describeSeedOnNode('upstream');
