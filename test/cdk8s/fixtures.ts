// Shared fixtures for the cdk8s construct tests.
import { SecretProviderClassProps } from '../../lib/cdk8s';
import { CLIENT, seedSpcProps, TENANT } from '../core/fixtures';

export { CLIENT, TENANT };
export const spcProps: SecretProviderClassProps = seedSpcProps;

export type Manifest = {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized manifests are untyped JSON
  spec?: any;
};
export const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);

/** The message a call throws (fails the test when it does not throw). */
export function errorOf(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the call to throw');
}
