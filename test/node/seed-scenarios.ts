// The scenario list both flavors run, in order (each builds on the state the one before left).
import type { NodeFlavor } from '../../harness/rig/node/node-install';
import {
  BROKEN_CASES,
  brokenSpcStaysContainerCreating,
  driverRestartKeepsMounts,
  podDeletionCleansUp,
  rotationReachesContainer,
  seedPodRuns,
  useSeedWorld,
  workloadIdentityTokenReachedEntra,
} from './seed-on-node';

export function describeSeedOnNode(flavor: NodeFlavor): void {
  jest.setTimeout(300_000);
  describe(`the seed on a real node (${flavor} driver + provider)`, () => {
    const { world } = useSeedWorld(flavor);
    const scenario = (
      name: string,
      run: (w: NonNullable<ReturnType<typeof world>>) => Promise<unknown> | void,
    ) =>
      test(name, async () => {
        const w = world();
        if (!w) return; // nodeEnvironment() said why (and failed in CI).
        await run(w);
      });

    scenario(
      "the seed's pod runs: foo1 inside the container, SECRET_USERNAME from the synced foosecret",
      seedPodRuns,
    );
    scenario(
      "workload identity: the kubelet's token for the pod reaches Entra ID through the provider",
      workloadIdentityTokenReachedEntra,
    );
    scenario(
      'rotation: the new version shows inside the running container and in foosecret',
      rotationReachesContainer,
    );
    scenario(
      'the driver pod restarts while the seed pod runs: the mount keeps its content, rotation resumes',
      driverRestartKeepsMounts,
    );
    scenario(
      'pod deletion: each tmpfs and SPCPS goes, foosecret is collected after the last consumer',
      podDeletionCleansUp,
    );
    for (const broken of BROKEN_CASES) {
      scenario(
        `a broken SPC (${broken.name}): ContainerCreating with a FailedMount Event that says what to fix`,
        async (w) => {
          const message = await brokenSpcStaysContainerCreating(w, broken);
          console.log(`[${flavor}] FailedMount (${broken.name}): ${message}`);
        },
      );
    }
  });
}
