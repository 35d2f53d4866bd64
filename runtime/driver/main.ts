// Entry point of the driver process; filled in by the driver issue.
export async function main(_args: string[]): Promise<void> {
  throw new Error('the driver is not built yet');
}
