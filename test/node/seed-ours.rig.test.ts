// The seed on a real node with OUR driver and provider (the runtime image built from this tree), as the
// install renders them. The same scenarios run with upstream's binaries in seed-upstream.rig.test.ts.
import { describeSeedOnNode } from './seed-scenarios';

describeSeedOnNode('ours');
