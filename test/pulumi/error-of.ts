/** The message `fn` throws; fails the test when it does not throw (so two messages can be compared with toBe). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}
